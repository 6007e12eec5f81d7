// Test helpers for package sync's tests and tests/stress/sync_*.
//
//   kScale               divide iteration counts by it (sanitizer builds are 5-20x slower)
//   kProcs               the GOMAXPROCS values every stress test runs at
//   ProcsGuard           sets GOMAXPROCS for a scope
//   LeakCheck            fails the test if goroutines started in its scope outlive it
//   WaitUntil            polls a predicate with a generous bound (never asserts on speed)
//   RunGoroutines        runs fn(i) on n goroutines and waits for all of them
//   RunThreads           the same on plain OS threads
//   CountParked          how many goroutines/threads are parked with a given wait reason
//
// The runners wait with a plain atomic counter, not with the WaitGroup under
// test, so that a broken WaitGroup cannot hide behind them.
#ifndef GO_RUNTIME_SYNC_INTERNAL_SYNC_TESTING_H_
#define GO_RUNTIME_SYNC_INTERNAL_SYNC_TESTING_H_

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/testing/scale.h"
#include "runtime/sched/g.h"
#include "runtime/sched/sanitizers.h"
#include "runtime/sched/sched.h"

namespace go::sync::testing {

using ::go::testutil::kScale;  // runtime/testing/scale.h

inline constexpr int kProcs[] = {1, 2, 3, 4, 8};

using ProcsGuard = ::go::testutil::ProcsScope;

// WaitUntil polls pred every 100us until it holds or `seconds` have passed;
// returns its last value.
template <typename Pred>
bool WaitUntil(Pred pred, double seconds = 60) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return pred();
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

// Fails the current test if, 10 s after the scope ends, more goroutines are
// alive than when it began.
class LeakCheck {
 public:
  LeakCheck() : before_(NumGoroutine()) {}
  ~LeakCheck() {
    const bool ok = WaitUntil([&] { return NumGoroutine() <= before_; }, 10);
    EXPECT_TRUE(ok) << "leaked goroutines: " << NumGoroutine() << " alive, " << before_
                    << " before the test";
  }
  LeakCheck(const LeakCheck&) = delete;
  LeakCheck& operator=(const LeakCheck&) = delete;

 private:
  int before_;
};

// Runs fn(i) for i in [0, n) on n goroutines and waits until all returned.
// A wait of more than two minutes aborts the test binary (a hang says less).
template <typename F>
void RunGoroutines(int n, F fn) {
  std::atomic<int> done{0};
  for (int i = 0; i < n; i++) {
    Go([&done, &fn, i] {
      fn(i);
      done.fetch_add(1, std::memory_order_release);
    });
  }
  if (!WaitUntil([&] { return done.load(std::memory_order_acquire) == n; }, 120)) {
    std::fprintf(stderr, "RunGoroutines: %d of %d goroutines still running after 120 s\n",
                 n - done.load(), n);
    std::abort();
  }
}

// Runs fn(i) for i in [0, n) on n plain threads and joins them.
template <typename F>
void RunThreads(int n, F fn) {
  std::vector<std::thread> ts;
  ts.reserve(n);
  for (int i = 0; i < n; i++) ts.emplace_back([&fn, i] { fn(i); });
  for (auto& t : ts) t.join();
}

// CountParked returns how many goroutines (and threads) are parked right now
// with wait reason r. A goroutine parked on a sync primitive is already in its
// wait queue, so this tells a test that a waiter is really waiting.
inline int CountParked(sched::WaitReason r) {
  // A diagnostic snapshot of G records that the (uninstrumented) scheduler
  // publishes: TSan cannot see how they were published, so it looks away.
  sched::san::IgnoreAccesses no_tsan;
  int n = 0;
  sched::ForEachG([&](sched::G* g) {
    if (g->status.load(std::memory_order_relaxed) == sched::GStatus::kWaiting &&
        g->wait_reason.load(std::memory_order_relaxed) == r) {
      n++;
    }
  });
  return n;
}

}  // namespace go::sync::testing

#endif  // GO_RUNTIME_SYNC_INTERNAL_SYNC_TESTING_H_
