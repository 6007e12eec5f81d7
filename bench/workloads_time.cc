// Package time workloads: sleepers_100k_1to10ms, timer_create_stop, after_100k_1to10ms.
// Twins: bench/go/workloads.go. Each mirrors its twin statement for statement.
#include <cstdint>
#include <vector>

#include "bench/features.h"
#include "bench/workloads.h"

#if BENCH_HAVE_SYNC
#include "absl/time/time.h"
#include "runtime/go.h"
#endif

namespace bench {
namespace {

#if BENCH_HAVE_SYNC
// --- sleepers_100k_1to10ms ---------------------------------------------------------------------
// 100,000 goroutines each sleep (i % 10 + 1) ms; the spawner waits for all of them.
std::vector<Measurement> Sleepers(const Sizes& s) {
  const int64_t n = s.N(100'000);
  go::sync::WaitGroup wg;
  const auto start = Clock::now();
  wg.Add(static_cast<int>(n));
  for (int64_t i = 0; i < n; i++) {
    go::Go([&wg, i] {
      go::Sleep(absl::Milliseconds(i % 10 + 1));
      wg.Done();
    });
  }
  wg.Wait();
  const auto d = Clock::now() - start;
  return {{"sleepers_100k_1to10ms", Ms(d), "ms"}};
}
#endif  // BENCH_HAVE_SYNC

#if BENCH_HAVE_SYNC && BENCH_HAVE_TIMER
// --- timer_create_stop -------------------------------------------------------------------------
// 4 goroutines, 1,000,000 timers in total: a Timer of 1 h, then Stop (which must report that it
// stopped a pending timer).
std::vector<Measurement> TimerCreateStop(const Sizes& s) {
  constexpr int kWorkers = 4;
  const int64_t per = s.N(1'000'000) / kWorkers;
  go::sync::WaitGroup wg;
  std::vector<int64_t> stopped(kWorkers);
  const auto start = Clock::now();
  wg.Add(kWorkers);
  for (int w = 0; w < kWorkers; w++) {
    go::Go([&wg, &stopped, w, per] {
      for (int64_t i = 0; i < per; i++) {
        go::Timer t(absl::Hours(1));
        if (t.Stop()) stopped[w]++;
      }
      wg.Done();
    });
  }
  wg.Wait();
  const auto d = Clock::now() - start;
  for (int64_t v : stopped) {
    Check(v == per, "timer Stop reported " + std::to_string(v) + " pending");
  }
  return {{"timer_create_stop", NsPer(d, per * kWorkers), "ns/op"}};
}

// --- after_100k_1to10ms ------------------------------------------------------------------------
// Like sleepers_100k_1to10ms, but each goroutine receives from After(i % 10 + 1 ms).
std::vector<Measurement> After100k(const Sizes& s) {
  const int64_t n = s.N(100'000);
  go::sync::WaitGroup wg;
  const auto start = Clock::now();
  wg.Add(static_cast<int>(n));
  for (int64_t i = 0; i < n; i++) {
    go::Go([&wg, i] {
      go::After(absl::Milliseconds(i % 10 + 1)).Recv();
      wg.Done();
    });
  }
  wg.Wait();
  const auto d = Clock::now() - start;
  return {{"after_100k_1to10ms", Ms(d), "ms"}};
}
#endif  // BENCH_HAVE_SYNC && BENCH_HAVE_TIMER

}  // namespace

void AddTimeWorkloads(std::vector<Workload>* out) {
  std::vector<Workload> w = {
      {"sleepers_100k_1to10ms", {"sleepers_100k_1to10ms"},
       Unavailable({{BENCH_HAVE_SYNC, "runtime/sync"}}), nullptr},
      {"timer_create_stop", {"timer_create_stop"},
       Unavailable({{BENCH_HAVE_TIMER, "runtime/time (Timer, After)"}, {BENCH_HAVE_SYNC, "runtime/sync"}}),
       nullptr},
      {"after_100k_1to10ms", {"after_100k_1to10ms"},
       Unavailable({{BENCH_HAVE_TIMER, "runtime/time (Timer, After)"}, {BENCH_HAVE_SYNC, "runtime/sync"}}),
       nullptr},
  };
#if BENCH_HAVE_SYNC
  w[0].run = Sleepers;
#endif
#if BENCH_HAVE_SYNC && BENCH_HAVE_TIMER
  w[1].run = TimerCreateStop;
  w[2].run = After100k;
#endif
  out->insert(out->end(), w.begin(), w.end());
}

}  // namespace bench
