// Channel workloads: skynet_1m, parked_spawn/parked_mem, pingpong_unbuffered,
// prodcons_4x4_cap128, prodcons_1x1_cap0, select_fanin4. Twins: bench/go/workloads.go.
//
// Each function mirrors its Go twin statement for statement (same goroutines, same channel
// capacities, same timed span, same check); change both together.
#include <cstdint>
#include <optional>
#include <variant>

#include "bench/features.h"
#include "bench/workloads.h"

#if BENCH_HAVE_CHAN
#include "runtime/go.h"
#endif

namespace bench {
namespace {

#if BENCH_HAVE_CHAN

// --- skynet_1m -------------------------------------------------------------------------------
// Each node starts 10 children, each of which sends its subtree's sum on the node's buffered
// channel (capacity 10); a leaf sends its ordinal. 1,111,111 goroutines for 1,000,000 leaves.
void Skynet(go::Chan<int64_t> c, int64_t num, int64_t size) {
  if (size == 1) {
    c.Send(num);
    return;
  }
  go::Chan<int64_t> rc = go::MakeChan<int64_t>(10);
  const int64_t sub = size / 10;
  for (int64_t i = 0; i < 10; i++) {
    go::Go([rc, num, i, sub] { Skynet(rc, num + i * sub, sub); });
  }
  int64_t sum = 0;
  for (int i = 0; i < 10; i++) sum += *rc.Recv();
  c.Send(sum);
}

std::vector<Measurement> Skynet1m(const Sizes& s) {
  const int64_t leaves = s.N(1'000'000);
  const auto start = Clock::now();
  go::Chan<int64_t> c = go::MakeChan<int64_t>(1);
  go::Go([c, leaves] { Skynet(c, 0, leaves); });
  const int64_t sum = *c.Recv();
  const auto d = Clock::now() - start;
  Check(sum == leaves * (leaves - 1) / 2, "skynet sum " + std::to_string(sum));
  return {{"skynet_1m", Ms(d), "ms"}};
}

// --- pingpong_unbuffered -----------------------------------------------------------------------
std::vector<Measurement> Pingpong(const Sizes& s) {
  const int64_t n = s.N(1'000'000);
  go::Chan<int64_t> ping = go::MakeChan<int64_t>(), pong = go::MakeChan<int64_t>();
  go::Go([ping, pong] {
    for (int64_t v : ping) pong.Send(v);
    pong.Close();
  });
  const auto start = Clock::now();
  for (int64_t i = 0; i < n; i++) {
    ping.Send(i);
    const std::optional<int64_t> v = pong.Recv();
    Check(v == i, "pong answered the wrong value");
  }
  const auto d = Clock::now() - start;
  ping.Close();
  Check(!pong.Recv().has_value(), "pong not closed");
  return {{"pingpong_unbuffered", NsPer(d, n), "ns/roundtrip"}};
}

// --- select_fanin4 -----------------------------------------------------------------------------
std::vector<Measurement> SelectFanin4(const Sizes& s) {
  const int64_t total = s.N(1'000'000);
  go::Chan<int64_t> chs[4];
  for (auto& c : chs) c = go::MakeChan<int64_t>();
  const auto start = Clock::now();
  for (int64_t k = 0; k < 4; k++) {
    go::Go([c = chs[k], k, total] {
      for (int64_t i = k; i < total; i += 4) c.Send(i);
    });
  }
  int64_t sum = 0;
  auto add = [&sum](std::optional<int64_t> v) { sum += *v; };
  for (int64_t n = 0; n < total; n++) {
    go::Select(go::OnRecv(chs[0], add), go::OnRecv(chs[1], add), go::OnRecv(chs[2], add),
               go::OnRecv(chs[3], add));
  }
  const auto d = Clock::now() - start;
  Check(sum == total * (total - 1) / 2, "select_fanin4 sum " + std::to_string(sum));
  return {{"select_fanin4", NsPer(d, total), "ns/op"}};
}

#endif  // BENCH_HAVE_CHAN

#if BENCH_HAVE_CHAN && BENCH_HAVE_SYNC

// --- parked_spawn, parked_mem --------------------------------------------------------------------
// 100,000 goroutines each signal a WaitGroup and block receiving from one channel. Reports the
// spawn time per goroutine until all have signalled, and the growth of resident memory per
// goroutine over the same span; then closes the channel and waits for all to exit (untimed).
std::vector<Measurement> Parked(const Sizes& s) {
  const int64_t n = s.N(100'000);
  go::Chan<std::monostate> ch = go::MakeChan<std::monostate>();
  go::sync::WaitGroup ready, exited;
  ready.Add(static_cast<int>(n));
  exited.Add(static_cast<int>(n));
  const int64_t before = RssBytes();
  const auto start = Clock::now();
  for (int64_t i = 0; i < n; i++) {
    go::Go([&ready, &exited, ch] {
      ready.Done();
      ch.Recv();
      exited.Done();
    });
  }
  ready.Wait();
  const auto d = Clock::now() - start;
  const int64_t after = RssBytes();
  ch.Close();
  exited.Wait();
  return {{"parked_spawn", NsPer(d, n), "ns/goroutine"},
          {"parked_mem", static_cast<double>(after - before) / static_cast<double>(n),
           "bytes/goroutine"}};
}

// --- prodcons_4x4_cap128, prodcons_1x1_cap0 ------------------------------------------------------
// Producers send 0..total-1 (producer p sends p, p+P, ...) on one channel; consumers range over
// it until it is closed (after every producer is done); the sums must add up.
std::vector<Measurement> Prodcons(const Sizes& s, const char* name, int producers,
                                  int consumers, size_t capacity) {
  const int64_t total = s.N(4'000'000);
  const auto start = Clock::now();
  go::Chan<int64_t> ch = go::MakeChan<int64_t>(capacity);
  go::sync::WaitGroup prod, cons;
  std::vector<int64_t> sums(consumers);
  prod.Add(producers);
  cons.Add(consumers);
  for (int p = 0; p < producers; p++) {
    go::Go([&prod, ch, p, producers, total] {
      for (int64_t i = p; i < total; i += producers) ch.Send(i);
      prod.Done();
    });
  }
  for (int c = 0; c < consumers; c++) {
    go::Go([&cons, &sums, ch, c] {
      int64_t sum = 0;
      for (int64_t v : ch) sum += v;
      sums[c] = sum;
      cons.Done();
    });
  }
  prod.Wait();
  ch.Close();
  cons.Wait();
  const auto d = Clock::now() - start;
  int64_t sum = 0;
  for (int64_t v : sums) sum += v;
  Check(sum == total * (total - 1) / 2, std::string(name) + " sum " + std::to_string(sum));
  return {{name, NsPer(d, total), "ns/item"}};
}

#endif  // BENCH_HAVE_CHAN && BENCH_HAVE_SYNC

}  // namespace

void AddChanWorkloads(std::vector<Workload>* out) {
  const std::string chan = Unavailable({{BENCH_HAVE_CHAN, "runtime/chan"}});
  const std::string chan_sync =
      Unavailable({{BENCH_HAVE_CHAN, "runtime/chan"}, {BENCH_HAVE_SYNC, "runtime/sync"}});
  std::vector<Workload> w = {
      {"skynet_1m", {"skynet_1m"}, chan, nullptr},
      {"parked", {"parked_spawn", "parked_mem"}, chan_sync, nullptr},
      {"pingpong_unbuffered", {"pingpong_unbuffered"}, chan, nullptr},
      {"prodcons_4x4_cap128", {"prodcons_4x4_cap128"}, chan_sync, nullptr},
      {"prodcons_1x1_cap0", {"prodcons_1x1_cap0"}, chan_sync, nullptr},
      {"select_fanin4", {"select_fanin4"}, chan, nullptr},
  };
#if BENCH_HAVE_CHAN
  w[0].run = Skynet1m;
  w[2].run = Pingpong;
  w[5].run = SelectFanin4;
#endif
#if BENCH_HAVE_CHAN && BENCH_HAVE_SYNC
  w[1].run = Parked;
  w[3].run = [](const Sizes& s) { return Prodcons(s, "prodcons_4x4_cap128", 4, 4, 128); };
  w[4].run = [](const Sizes& s) { return Prodcons(s, "prodcons_1x1_cap0", 1, 1, 0); };
#endif
  out->insert(out->end(), w.begin(), w.end());
}

}  // namespace bench
