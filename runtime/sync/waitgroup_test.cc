// Tests for sync::WaitGroup: Wait returns after every Done (with the data the
// workers wrote), several waiters on goroutines and threads, Go(f), reuse,
// and misuse panics with Go's messages.
#include "runtime/sync/waitgroup.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/sync/internal/sync_testing.h"

namespace go::sync {
namespace {

using testing::kProcs;
using testing::kScale;
using testing::LeakCheck;
using testing::ProcsGuard;
using testing::WaitUntil;

TEST(WaitGroupTest, WaitOnZeroCounterReturnsAtOnce) {
  WaitGroup wg;
  wg.Wait();
  wg.Add(2);
  wg.Done();
  wg.Done();
  wg.Wait();
}

// Memory model: each worker's plain writes happen before Wait returns.
TEST(WaitGroupTest, WaitReturnsAfterEveryDoneWithTheWorkersData) {
  LeakCheck leaks;
  for (int procs : kProcs) {
    ProcsGuard p(procs);
    constexpr int kWorkers = 32;
    std::vector<int64_t> out(kWorkers, 0);
    WaitGroup wg;
    wg.Add(kWorkers);
    for (int i = 0; i < kWorkers; i++) {
      Go([&, i] {
        for (int k = 0; k < 100; k++) {
          out[i] += k;
          if (k % 10 == 0) Gosched();
        }
        wg.Done();
      });
    }
    wg.Wait();  // the main thread sleeps on its futex
    for (int i = 0; i < kWorkers; i++) EXPECT_EQ(out[i], 4950) << i;
  }
}

TEST(WaitGroupTest, GoCountsTheGoroutineIn) {
  LeakCheck leaks;
  WaitGroup wg;
  std::vector<int> out(10, 0);
  for (int i = 0; i < 10; i++) {
    wg.Go([&out, i] { out[i] = i * i; });
  }
  wg.Wait();
  for (int i = 0; i < 10; i++) EXPECT_EQ(out[i], i * i);
}

TEST(WaitGroupTest, EveryWaiterIsReleasedGoroutinesAndThreads) {
  LeakCheck leaks;
  ProcsGuard p(2);
  WaitGroup wg, waiters_done;
  wg.Add(1);
  std::atomic<int> released{0};
  waiters_done.Add(4);
  for (int i = 0; i < 4; i++) {
    Go([&] {
      wg.Wait();
      released++;
      waiters_done.Done();
    });
  }
  std::vector<std::thread> ts;
  for (int i = 0; i < 2; i++) {
    ts.emplace_back([&] {
      wg.Wait();
      released++;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(released.load(), 0);
  wg.Done();
  for (auto& t : ts) t.join();
  waiters_done.Wait();
  EXPECT_EQ(released.load(), 6);
}

TEST(WaitGroupTest, ReusedAfterWaitReturnsManyRounds) {
  LeakCheck leaks;
  ProcsGuard p(4);
  WaitGroup wg;
  int64_t sum = 0;
  const int kRounds = 2000 / kScale;
  for (int r = 0; r < kRounds; r++) {
    wg.Add(2);
    int64_t part[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
      Go([&, i] {
        part[i] = r + i;
        wg.Done();
      });
    }
    wg.Wait();
    sum += part[0] + part[1];
  }
  EXPECT_EQ(sum, int64_t{kRounds} * (kRounds - 1) + kRounds);
}

TEST(WaitGroupTest, NegativeCounterPanicsAndIsRestored) {
  WaitGroup wg;
  try {
    wg.Done();
    FAIL() << "no panic";
  } catch (const Panic& p) {
    EXPECT_STREQ(p.what(), "sync: negative WaitGroup counter");
  }
  wg.Add(1);
  EXPECT_THROW(wg.Add(-2), Panic);
  wg.Done();
  wg.Wait();  // back to zero: returns
}

// Reuse before the previous Wait returned: on one P, the goroutine that
// releases the waiter keeps running (Ready only queues the waiter) and Adds
// again before the waiter has looked at the counter.
TEST(WaitGroupTest, ReuseBeforePreviousWaitReturnedPanics) {
  LeakCheck leaks;
  ProcsGuard p(1);
  WaitGroup wg;
  wg.Add(1);
  std::atomic<int> outcome{0};  // 1: panicked with Go's text, 2: returned
  Go([&] {
    try {
      wg.Wait();
      outcome = 2;
    } catch (const Panic& p) {
      outcome = std::string(p.what()) ==
                        "sync: WaitGroup is reused before previous Wait has returned"
                    ? 1
                    : 3;
    }
  });
  ASSERT_TRUE(WaitUntil([] { return testing::CountParked(sched::WaitReason::kWaitGroupWait) == 1; }));
  Go([&] {
    wg.Done();   // releases the waiter (queued on our P, not running)
    wg.Add(1);   // misuse: reuse before that Wait returned
  });
  ASSERT_TRUE(WaitUntil([&] { return outcome.load() != 0; }));
  EXPECT_EQ(outcome.load(), 1);
}

}  // namespace
}  // namespace go::sync
