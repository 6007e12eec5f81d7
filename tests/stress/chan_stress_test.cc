// Stress tests for channels, select and time channels: many goroutines, random
// shapes, exact accounting. Each randomized test prints its seed; rerun one
// shape with CHAN_STRESS_SEED=<seed>.
//
// What is checked is always exact (nothing lost, nothing duplicated, counts
// agree), never a timing.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/chan/chan_testing.h"
#include "runtime/go.h"

namespace go {
namespace {

using chan_testing::Group;
using chan_testing::kScale;
using chan_testing::LeakCheck;
using chan_testing::ProcsScope;

uint64_t Seed(const char* test) {
  uint64_t seed = std::random_device{}();
  if (const char* env = std::getenv("CHAN_STRESS_SEED")) seed = std::strtoull(env, nullptr, 10);
  std::printf("%s seed=%llu (rerun: CHAN_STRESS_SEED=%llu)\n", test,
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  return seed;
}

// Count, sum and sum of squares (mod 2^64) identify the multiset well enough
// to catch a lost or duplicated value.
struct Checksum {
  int64_t count = 0;
  uint64_t sum = 0, sq = 0;
  void Add(int64_t v) {
    const auto u = static_cast<uint64_t>(v);
    count++;
    sum += u;
    sq += u * u;
  }
  void Merge(const Checksum& o) {
    count += o.count;
    sum += o.sum;
    sq += o.sq;
  }
  static Checksum Range(int64_t n) {
    Checksum c;
    for (int64_t v = 0; v < n; v++) c.Add(v);
    return c;
  }
  bool operator==(const Checksum&) const = default;
};

TEST(ChanStressTest, ProducersConsumersRandomShapes) {
  LeakCheck leaks;
  const uint64_t seed = Seed("ChanStressTest.ProducersConsumersRandomShapes");
  std::mt19937_64 rng(seed);
  const int kShapes = 24;
  for (int shape = 0; shape < kShapes; shape++) {
    const int procs = 1 << (rng() % 3);
    const int producers = 1 + static_cast<int>(rng() % 8);
    const int consumers = 1 + static_cast<int>(rng() % 8);
    const size_t caps[] = {0, 1, 7, 128};
    const size_t cap = caps[rng() % 4];
    const int64_t per = (20000 + static_cast<int64_t>(rng() % 20000)) / kScale;
    SCOPED_TRACE(testing::Message() << "seed " << seed << " shape " << shape << ": GOMAXPROCS "
                                    << procs << ", " << producers << "x" << consumers << ", cap "
                                    << cap);
    ProcsScope scope(procs);
    Chan<int64_t> c = MakeChan<int64_t>(cap);
    Chan<Checksum> results = MakeChan<Checksum>(consumers);
    Group prod, cons;
    for (int p = 0; p < producers; p++) {
      prod.Go([c, p, per] {
        for (int64_t i = 0; i < per; i++) c.Send(p * per + i);
      });
    }
    for (int k = 0; k < consumers; k++) {
      cons.Go([c, results] {
        Checksum sum;
        for (int64_t v : c) sum.Add(v);
        results.Send(sum);
      });
    }
    prod.Wait();
    c.Close();
    cons.Wait();
    Checksum total;
    for (int k = 0; k < consumers; k++) total.Merge(*results.Recv());
    EXPECT_TRUE(total == Checksum::Range(producers * per));
  }
}

// Producers that never block: they poll with non-blocking selects and spawn
// a goroutine now and then, so with one P only preemption (sysmon's request,
// honoured at the next channel operation or go statement) lets the consumers
// and the spawned goroutines run at all. Preempted goroutines go to the
// global queue and come back: nothing may be lost or duplicated on the way.
TEST(ChanStressTest, PollingProducersArePreemptedAndLoseNothing) {
  LeakCheck leaks;
  const uint64_t seed = Seed("ChanStressTest.PollingProducersArePreemptedAndLoseNothing");
  std::mt19937_64 rng(seed);
  for (int shape = 0; shape < 4; shape++) {
    const int procs = 1 + static_cast<int>(rng() % 2);
    const int producers = 1 + static_cast<int>(rng() % 3);
    // With one P each producer livelocks for up to ~10-20 ms (until sysmon
    // asks it to yield) every time the buffer fills: a few hundred values
    // make a few such rounds.
    const size_t cap = 64 + rng() % 64;
    const int64_t per = 300 + static_cast<int64_t>(rng() % 300);
    const int64_t spawn_every = 20 + static_cast<int64_t>(rng() % 60);
    SCOPED_TRACE(testing::Message() << "seed " << seed << " shape " << shape << ": GOMAXPROCS "
                                    << procs << ", " << producers << " producers, cap " << cap
                                    << ", " << per << " values each, a spawn every "
                                    << spawn_every);
    ProcsScope scope(procs);
    Chan<int64_t> c = MakeChan<int64_t>(cap);
    Chan<int64_t> side = MakeChan<int64_t>(0);  // the spawned goroutines' values
    Chan<Checksum> results = MakeChan<Checksum>(2);
    Group prod, cons;
    for (int p = 0; p < producers; p++) {
      prod.Go([c, side, p, per, spawn_every] {
        for (int64_t i = 0; i < per; i++) {
          const int64_t v = p * per + i;
          if (i % spawn_every == 0) {
            go::Go([side, v] { side.Send(v); });  // the side consumer takes it
            continue;
          }
          while (Select(OnSend(c, v), OnDefault()) != 0) {
          }
        }
      });
    }
    cons.Go([c, results] {
      Checksum sum;
      for (int64_t v : c) sum.Add(v);
      results.Send(sum);
    });
    int64_t spawned = 0;
    for (int p = 0; p < producers; p++) spawned += (per + spawn_every - 1) / spawn_every;
    cons.Go([side, results, spawned] {
      Checksum sum;
      for (int64_t k = 0; k < spawned; k++) sum.Add(*side.Recv());
      results.Send(sum);
    });
    prod.Wait();
    c.Close();
    cons.Wait();
    Checksum total = *results.Recv();
    total.Merge(*results.Recv());
    EXPECT_TRUE(total == Checksum::Range(producers * per));
  }
}

TEST(ChanStressTest, CloseRacesWithBlockedSendersAndReceivers) {
  // Senders send until Send panics; receivers receive until closed. Whatever
  // the interleaving, every value whose Send returned is received exactly
  // once, and no value whose Send panicked is.
  LeakCheck leaks;
  const uint64_t seed = Seed("ChanStressTest.CloseRacesWithBlockedSendersAndReceivers");
  std::mt19937_64 rng(seed);
  const int kRounds = 300 / kScale;
  for (int round = 0; round < kRounds; round++) {
    const int procs = 1 << (rng() % 3);
    const size_t cap = rng() % 3 == 0 ? 0 : rng() % 8;
    const int senders = 1 + static_cast<int>(rng() % 6);
    const int receivers = 1 + static_cast<int>(rng() % 6);
    const int delay_us = static_cast<int>(rng() % 300);
    SCOPED_TRACE(testing::Message() << "seed " << seed << " round " << round);
    ProcsScope scope(procs);
    Chan<int64_t> c = MakeChan<int64_t>(cap);
    Chan<Checksum> sent = MakeChan<Checksum>(senders), got = MakeChan<Checksum>(receivers);
    Group g;
    for (int s = 0; s < senders; s++) {
      g.Go([c, sent, s] {
        Checksum ok;
        for (int64_t i = 0;; i++) {
          const int64_t v = s * 1000000000LL + i;
          try {
            c.Send(v);
          } catch (const Panic& p) {
            EXPECT_EQ(std::string(p.what()), "send on closed channel");
            break;
          }
          ok.Add(v);
        }
        sent.Send(ok);
      });
    }
    for (int r = 0; r < receivers; r++) {
      g.Go([c, got] {
        Checksum sum;
        while (std::optional<int64_t> v = c.Recv()) sum.Add(*v);
        got.Send(sum);
      });
    }
    Sleep(absl::Microseconds(delay_us));
    c.Close();
    g.Wait();
    Checksum s_total, r_total;
    for (int s = 0; s < senders; s++) s_total.Merge(*sent.Recv());
    for (int r = 0; r < receivers; r++) r_total.Merge(*got.Recv());
    EXPECT_TRUE(s_total == r_total) << "sent " << s_total.count << " received " << r_total.count;
  }
}

TEST(ChanStressTest, SelectsSendAndReceiveOnSharedChannels) {
  // Workers select over random sends and receives on a few shared channels
  // (and a quit channel). Every completed send case is matched by exactly one
  // completed receive case (or a value left in a buffer, drained at the end).
  LeakCheck leaks;
  const uint64_t seed = Seed("ChanStressTest.SelectsSendAndReceiveOnSharedChannels");
  for (int procs : {1, 2, 4}) {
    ProcsScope scope(procs);
    constexpr int kChans = 3, kWorkers = 6;
    const int kOps = 20000 / kScale;
    std::vector<Chan<int64_t>> chans;
    for (int i = 0; i < kChans; i++) chans.push_back(MakeChan<int64_t>(static_cast<size_t>(i)));
    Chan<bool> quit = MakeChan<bool>();
    Chan<std::pair<Checksum, Checksum>> results = MakeChan<std::pair<Checksum, Checksum>>(kWorkers);
    Chan<bool> done_sending = MakeChan<bool>(kWorkers);
    Group g;
    for (int w = 0; w < kWorkers; w++) {
      g.Go([=] {
        std::mt19937_64 rng(seed + static_cast<uint64_t>(w) * 7919 + static_cast<uint64_t>(procs));
        Checksum sent, got;
        auto on_got = [&](std::optional<int64_t> v) { got.Add(*v); };
        int64_t next = static_cast<int64_t>(w) << 40;
        int completed = 0;
        bool quitting = false;
        while (!quitting) {
          // Every select receives on every channel: so whenever one worker
          // waits to send, any other worker that blocks can take its value,
          // and the workers can never all be stuck.
          if (completed < kOps) {
            const int a = static_cast<int>(rng() % kChans);
            const int64_t v = next;
            auto on_sent = [&] {
              sent.Add(v);
              next++;
              completed++;
            };
            auto on_recv = [&](std::optional<int64_t> x) {
              on_got(x);
              completed++;
            };
            Select(OnRecv(chans[0], on_recv), OnSend(chans[a], v, on_sent),
                   OnRecv(chans[1], on_recv), OnRecv(chans[2], on_recv));
            if (completed == kOps) done_sending.Send(true);
          } else {
            // Keep receiving so that the others can finish their sends.
            Select(OnRecv(chans[0], on_got), OnRecv(chans[1], on_got), OnRecv(chans[2], on_got),
                   OnRecv(quit, [&] { quitting = true; }));
          }
        }
        results.Send({sent, got});
      });
    }
    for (int w = 0; w < kWorkers; w++) done_sending.Recv();
    quit.Close();
    g.Wait();
    Checksum sent, got;
    for (int w = 0; w < kWorkers; w++) {
      auto [s, r] = *results.Recv();
      sent.Merge(s);
      got.Merge(r);
    }
    for (auto& c : chans) {  // values still buffered
      while (true) {
        std::optional<int64_t> v;
        if (Select(OnRecv(c, [&](std::optional<int64_t> x) { v = x; }), OnDefault()) != 0) break;
        got.Add(*v);
      }
    }
    EXPECT_TRUE(sent == got) << "GOMAXPROCS " << procs << " sent " << sent.count << " got "
                             << got.count;
  }
}

TEST(ChanStressTest, FanInWithSelectAndSelectDynamic) {
  LeakCheck leaks;
  for (int procs : {1, 2, 4}) {
    ProcsScope scope(procs);
    for (bool dynamic : {false, true}) {
      const int64_t total = 200000 / kScale;
      Chan<int64_t> chs[4];
      for (auto& c : chs) c = MakeChan<int64_t>();
      Group g;
      for (int64_t k = 0; k < 4; k++) {
        g.Go([c = chs[k], k, total] {
          for (int64_t i = k; i < total; i += 4) c.Send(i);
        });
      }
      Checksum sum;
      if (dynamic) {
        std::vector<std::optional<int64_t>> got(4);
        std::vector<SelectCase> cases;
        for (int k = 0; k < 4; k++) cases.push_back(SelectCase::Recv(chs[k], &got[k]));
        for (int64_t n = 0; n < total; n++) sum.Add(*got[SelectDynamic(cases)]);
      } else {
        auto add = [&sum](std::optional<int64_t> v) { sum.Add(*v); };
        for (int64_t n = 0; n < total; n++) {
          Select(OnRecv(chs[0], add), OnRecv(chs[1], add), OnRecv(chs[2], add), OnRecv(chs[3], add));
        }
      }
      g.Wait();
      EXPECT_TRUE(sum == Checksum::Range(total)) << "GOMAXPROCS " << procs;
    }
  }
}

TEST(ChanStressTest, TimeoutsUnderChannelTraffic) {
  // Selects with After timeouts beside busy channels: every value arrives,
  // and no runtime timer outlives the selects that made it.
  LeakCheck leaks;
  const int64_t base = time_internal::PendingTimers();
  for (int procs : {1, 2, 4}) {
    ProcsScope scope(procs);
    const int64_t total = 20000 / kScale;
    Chan<int64_t> c = MakeChan<int64_t>(4);
    Chan<Checksum> out = MakeChan<Checksum>(2);
    Group g;
    g.Go([c, total] {
      for (int64_t i = 0; i < total; i++) c.Send(i);
      c.Close();
    });
    for (int k = 0; k < 2; k++) {
      g.Go([c, out] {
        Checksum sum;
        int timeouts = 0;
        for (bool open = true; open;) {
          Select(OnRecv(c,
                        [&](std::optional<int64_t> v) {
                          if (v) {
                            sum.Add(*v);
                          } else {
                            open = false;
                          }
                        }),
                 OnRecv(After(absl::Microseconds(50)), [&] { timeouts++; }));
        }
        out.Send(sum);
      });
    }
    g.Wait();
    Checksum total_sum = *out.Recv();
    total_sum.Merge(*out.Recv());
    EXPECT_TRUE(total_sum == Checksum::Range(total));
  }
  EXPECT_TRUE(chan_testing::Eventually([&] { return time_internal::PendingTimers() == base; }))
      << time_internal::PendingTimers() - base << " timers left";
}

}  // namespace
}  // namespace go
