// Tests for sync::Cond: Signal wakes one waiter in order, Broadcast wakes
// all, a Signal with no waiter is not remembered, and a bounded queue built
// on two Conds moves every item exactly once (goroutines and threads).
#include "runtime/sync/cond.h"

#include <atomic>
#include <deque>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/sync/internal/sync_testing.h"

namespace go::sync {
namespace {

using testing::CountParked;
using testing::kProcs;
using testing::kScale;
using testing::LeakCheck;
using testing::ProcsGuard;
using testing::RunGoroutines;
using testing::WaitUntil;

TEST(CondTest, SignalWakesOneWaiterAtATimeInArrivalOrder) {
  LeakCheck leaks;
  Mutex mu;
  Cond c(mu);
  std::vector<int> woke;  // guarded by mu
  std::atomic<int> exited{0};
  int turn = 0;           // guarded by mu
  constexpr int kWaiters = 4;
  for (int i = 0; i < kWaiters; i++) {
    Go([&, i] {
      mu.Lock();
      while (turn <= i) c.Wait();
      woke.push_back(i);
      mu.Unlock();
      exited++;  // last touch of the test's locals
    });
    // Each waiter is parked before the next one arrives.
    ASSERT_TRUE(WaitUntil([&] { return CountParked(sched::WaitReason::kCondWait) == i + 1; }));
  }
  for (int i = 0; i < kWaiters; i++) {
    mu.Lock();
    turn = i + 1;
    mu.Unlock();
    c.Signal();  // wakes waiter i (the oldest), whose turn it now is
    ASSERT_TRUE(WaitUntil([&] {
      std::lock_guard<Mutex> l(mu);
      return woke.size() == static_cast<size_t>(i + 1);
    }));
  }
  EXPECT_EQ(woke, (std::vector<int>{0, 1, 2, 3}));
  ASSERT_TRUE(WaitUntil([&] { return exited.load() == kWaiters; }));
}

TEST(CondTest, BroadcastWakesEveryWaiterGoroutinesAndThreads) {
  LeakCheck leaks;
  Mutex mu;
  Cond c(mu);
  bool go_ahead = false;  // guarded by mu
  std::atomic<int> released{0};
  for (int i = 0; i < 5; i++) {
    Go([&] {
      {
        std::unique_lock<Mutex> l(mu);
        while (!go_ahead) c.Wait();
      }
      released++;  // after the unlock: the last touch of the test's locals
    });
  }
  std::thread t([&] {
    {
      std::unique_lock<Mutex> l(mu);
      while (!go_ahead) c.Wait();
    }
    released++;
  });
  ASSERT_TRUE(WaitUntil([&] { return CountParked(sched::WaitReason::kCondWait) == 6; }));
  mu.Lock();
  go_ahead = true;
  mu.Unlock();
  c.Broadcast();
  t.join();
  ASSERT_TRUE(WaitUntil([&] { return released.load() == 6; }));
}

TEST(CondTest, SignalWithoutWaitersIsNotRemembered) {
  LeakCheck leaks;
  Mutex mu;
  Cond c(mu);
  c.Signal();
  c.Broadcast();
  std::atomic<bool> woke{false};
  Go([&] {
    mu.Lock();
    c.Wait();  // must sleep: the signals above were for nobody
    mu.Unlock();
    woke = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return CountParked(sched::WaitReason::kCondWait) == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(woke.load());
  c.Signal();
  ASSERT_TRUE(WaitUntil([&] { return woke.load(); }));
}

// A bounded queue: items (plain ints) go from producers to consumers through
// a deque guarded by mu; each is received exactly once.
TEST(CondTest, BoundedQueueMovesEveryItemOnceAtEveryProcCount) {
  LeakCheck leaks;
  for (int procs : kProcs) {
    ProcsGuard p(procs);
    Mutex mu;
    Cond not_full(mu), not_empty(mu);
    std::deque<int> q;
    constexpr size_t kCap = 4;
    constexpr int kProducers = 4, kConsumers = 4;
    const int kPer = 2000 / kScale;
    std::vector<std::atomic<int>> seen(kProducers * kPer);
    int consumed = 0;  // guarded by mu
    RunGoroutines(kProducers + kConsumers, [&](int i) {
      if (i < kProducers) {
        for (int k = 0; k < kPer; k++) {
          mu.Lock();
          while (q.size() == kCap) not_full.Wait();
          q.push_back(i * kPer + k);
          mu.Unlock();
          not_empty.Signal();
        }
      } else {
        for (;;) {
          mu.Lock();
          while (q.empty() && consumed < kProducers * kPer) not_empty.Wait();
          if (q.empty()) {  // all consumed: pass the news on
            mu.Unlock();
            not_empty.Broadcast();
            return;
          }
          int v = q.front();
          q.pop_front();
          consumed++;
          mu.Unlock();
          not_full.Signal();
          seen[v].fetch_add(1);
        }
      }
    });
    for (auto& s : seen) ASSERT_EQ(s.load(), 1) << "GOMAXPROCS=" << procs;
  }
}

}  // namespace
}  // namespace go::sync
