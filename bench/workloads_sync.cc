// Package sync workloads: spawn_join, mutex_1workers, mutex_8workers, rwmutex_readmostly,
// waitgroup_wait, once_8workers, pool_8workers, and the scheduler's gosched. Twins:
// bench/go/workloads.go.
//
// Each function mirrors its Go twin statement for statement; change both together.
#include <array>
#include <cstdint>
#include <memory>

#include "bench/features.h"
#include "bench/workloads.h"

#if BENCH_HAVE_SYNC
#include "runtime/go.h"
#endif

namespace bench {
namespace {

#if BENCH_HAVE_SYNC

// --- gosched ----------------------------------------------------------------------------------
// One goroutine calls Gosched() 10,000,000 times: the yield round trip (into the scheduler and
// back, nothing else runnable on its P). Issue 3 asks for it within 3x of a bare register swap.
std::vector<Measurement> GoschedLoop(const Sizes& s) {
  const int64_t n = s.N(10'000'000);
  const auto start = Clock::now();
  for (int64_t i = 0; i < n; i++) go::Gosched();
  const auto d = Clock::now() - start;
  return {{"gosched", NsPer(d, n), "ns/op"}};
}

// --- spawn_join --------------------------------------------------------------------------------
// 1,000,000 goroutines that each call wg.Done(); the spawning goroutine waits for all.
std::vector<Measurement> SpawnJoin(const Sizes& s) {
  const int64_t n = s.N(1'000'000);
  const auto start = Clock::now();
  go::sync::WaitGroup wg;
  wg.Add(static_cast<int>(n));
  for (int64_t i = 0; i < n; i++) {
    go::Go([&wg] { wg.Done(); });
  }
  wg.Wait();
  const auto d = Clock::now() - start;
  return {{"spawn_join", NsPer(d, n), "ns/goroutine"}};
}

// --- mutex_1workers, mutex_8workers --------------------------------------------------------------
// `workers` goroutines increment one counter under one Mutex, `total` increments in all.
std::vector<Measurement> MutexWorkers(const Sizes& s, const char* name, int workers,
                                      int64_t total) {
  const int64_t per = s.N(total) / workers;
  go::sync::Mutex mu;
  int64_t counter = 0;
  go::sync::WaitGroup wg;
  const auto start = Clock::now();
  wg.Add(workers);
  for (int w = 0; w < workers; w++) {
    go::Go([&mu, &counter, &wg, per] {
      for (int64_t i = 0; i < per; i++) {
        mu.Lock();
        counter++;
        mu.Unlock();
      }
      wg.Done();
    });
  }
  wg.Wait();
  const auto d = Clock::now() - start;
  Check(counter == per * workers, std::string(name) + " counter " + std::to_string(counter));
  return {{name, NsPer(d, per * workers), "ns/op"}};
}

// --- waitgroup_wait ----------------------------------------------------------------------------
// 200,000 rounds of: Add(1), start a goroutine that calls Done, Wait. Measures Wait's park and
// Done's wake-up (plus one spawn) per round.
std::vector<Measurement> WaitgroupWait(const Sizes& s) {
  const int64_t rounds = s.N(200'000);
  go::sync::WaitGroup wg;
  const auto start = Clock::now();
  for (int64_t r = 0; r < rounds; r++) {
    wg.Add(1);
    go::Go([&wg] { wg.Done(); });
    wg.Wait();
  }
  const auto d = Clock::now() - start;
  return {{"waitgroup_wait", NsPer(d, rounds), "ns/round"}};
}

#endif  // BENCH_HAVE_SYNC

#if BENCH_HAVE_RWMUTEX
// --- rwmutex_readmostly ------------------------------------------------------------------------
// 8 goroutines, 4,000,000 operations in total; every 100th operation of a goroutine writes
// (Lock, increment, Unlock), the others read (RLock, read, RUnlock).
std::vector<Measurement> RwmutexReadMostly(const Sizes& s) {
  constexpr int kWorkers = 8;
  const int64_t per = s.N(4'000'000) / kWorkers;
  go::sync::RWMutex rw;
  int64_t shared = 0;
  go::sync::WaitGroup wg;
  std::vector<int64_t> seen(kWorkers);
  const auto start = Clock::now();
  wg.Add(kWorkers);
  for (int w = 0; w < kWorkers; w++) {
    go::Go([&rw, &shared, &wg, &seen, w, per] {
      int64_t local = 0;
      for (int64_t i = 0; i < per; i++) {
        if (i % 100 == 99) {
          rw.Lock();
          shared++;
          rw.Unlock();
        } else {
          rw.RLock();
          local += shared;
          rw.RUnlock();
        }
      }
      seen[w] = local;
      wg.Done();
    });
  }
  wg.Wait();
  const auto d = Clock::now() - start;
  Check(shared == kWorkers * (per / 100), "rwmutex writes " + std::to_string(shared));
  return {{"rwmutex_readmostly", NsPer(d, per * kWorkers), "ns/op"}};
}
#endif  // BENCH_HAVE_RWMUTEX

#if BENCH_HAVE_ONCE
// --- once_8workers -----------------------------------------------------------------------------
// 8 goroutines call Do on one Once, 10,000,000 calls in total (all but the first take the fast
// path); f must run exactly once.
std::vector<Measurement> Once8Workers(const Sizes& s) {
  constexpr int kWorkers = 8;
  const int64_t per = s.N(10'000'000) / kWorkers;
  go::sync::Once once;
  int64_t runs = 0;
  go::sync::WaitGroup wg;
  const auto start = Clock::now();
  wg.Add(kWorkers);
  for (int w = 0; w < kWorkers; w++) {
    go::Go([&once, &runs, &wg, per] {
      for (int64_t i = 0; i < per; i++) {
        once.Do([&runs] { runs++; });
      }
      wg.Done();
    });
  }
  wg.Wait();
  const auto d = Clock::now() - start;
  Check(runs == 1, "once ran f " + std::to_string(runs) + " times");
  return {{"once_8workers", NsPer(d, per * kWorkers), "ns/op"}};
}
#endif  // BENCH_HAVE_ONCE

#if BENCH_HAVE_POOL
// --- pool_8workers -----------------------------------------------------------------------------
// 8 goroutines, 4,000,000 Get+Put pairs in total on one Pool of 64-byte buffers.
std::vector<Measurement> Pool8Workers(const Sizes& s) {
  constexpr int kWorkers = 8;
  using Buf = std::array<unsigned char, 64>;
  const int64_t per = s.N(4'000'000) / kWorkers;
  go::sync::Pool<Buf> pool([] { return std::make_unique<Buf>(); });
  go::sync::WaitGroup wg;
  const auto start = Clock::now();
  wg.Add(kWorkers);
  for (int w = 0; w < kWorkers; w++) {
    go::Go([&pool, &wg, per] {
      for (int64_t i = 0; i < per; i++) {
        std::unique_ptr<Buf> b = pool.Get();
        (*b)[0]++;
        pool.Put(std::move(b));
      }
      wg.Done();
    });
  }
  wg.Wait();
  const auto d = Clock::now() - start;
  return {{"pool_8workers", NsPer(d, per * kWorkers), "ns/op"}};
}
#endif  // BENCH_HAVE_POOL

}  // namespace

void AddSyncWorkloads(std::vector<Workload>* out) {
  const std::string needs_sync = Unavailable({{BENCH_HAVE_SYNC, "runtime/sync"}});
  std::vector<Workload> w = {
      {"spawn_join", {"spawn_join"}, needs_sync, nullptr},
      {"mutex_1workers", {"mutex_1workers"}, needs_sync, nullptr},
      {"mutex_8workers", {"mutex_8workers"}, needs_sync, nullptr},
      {"rwmutex_readmostly", {"rwmutex_readmostly"},
       Unavailable({{BENCH_HAVE_RWMUTEX, "runtime/sync (RWMutex)"}}), nullptr},
      {"waitgroup_wait", {"waitgroup_wait"}, needs_sync, nullptr},
      {"once_8workers", {"once_8workers"}, Unavailable({{BENCH_HAVE_ONCE, "runtime/sync (Once)"}}),
       nullptr},
      {"pool_8workers", {"pool_8workers"}, Unavailable({{BENCH_HAVE_POOL, "runtime/sync (Pool)"}}),
       nullptr},
      {"gosched", {"gosched"}, needs_sync, nullptr},
  };
#if BENCH_HAVE_SYNC
  w[0].run = SpawnJoin;
  w[1].run = [](const Sizes& s) { return MutexWorkers(s, "mutex_1workers", 1, 10'000'000); };
  w[2].run = [](const Sizes& s) { return MutexWorkers(s, "mutex_8workers", 8, 4'000'000); };
  w[4].run = WaitgroupWait;
  w[7].run = GoschedLoop;
#endif
#if BENCH_HAVE_RWMUTEX
  w[3].run = RwmutexReadMostly;
#endif
#if BENCH_HAVE_ONCE
  w[5].run = Once8Workers;
#endif
#if BENCH_HAVE_POOL
  w[6].run = Pool8Workers;
#endif
  out->insert(out->end(), w.begin(), w.end());
}

}  // namespace bench
