// Tests for the runtime semaphore and notify list: wake order (FIFO, LIFO),
// hand-off, colliding addresses in one bucket, goroutines and plain threads
// on both sides, and the counting invariant under stress.
#include "runtime/sync/sema.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/sync/internal/sync_testing.h"

namespace go::sync::internal {
namespace {

using testing::kScale;
using testing::LeakCheck;
using testing::ProcsGuard;
using testing::RunGoroutines;
using testing::WaitUntil;

TEST(SemaTest, ReleaseBeforeAcquireIsNotLost) {
  std::atomic<uint32_t> s{0};
  Semrelease(&s);
  Semacquire(&s);  // must not block
  EXPECT_EQ(s.load(), 0u);
}

TEST(SemaTest, ReleaseWakesBlockedGoroutineAndThread) {
  LeakCheck leaks;
  std::atomic<uint32_t> s{0};
  std::atomic<int> woke{0};
  Go([&] {
    Semacquire(&s);
    woke++;
  });
  std::thread t([&] {
    Semacquire(&s);
    woke++;
  });
  ASSERT_TRUE(WaitUntil([&] { return SemaWaiters(&s) == 2; }));
  EXPECT_EQ(woke.load(), 0);
  Semrelease(&s);
  Semrelease(&s);
  t.join();
  ASSERT_TRUE(WaitUntil([&] { return woke.load() == 2; }));
  EXPECT_EQ(SemaWaiters(&s), 0u);
}

// Queues waiters 0..n-1 in order (each one parked before the next starts),
// then releases one unit at a time and returns the order they woke in.
std::vector<int> WakeOrder(int n, const std::vector<bool>& lifo) {
  std::atomic<uint32_t> s{0};
  std::vector<int> order;
  std::atomic<int> recorded{0};
  for (int i = 0; i < n; i++) {
    Go([&, i] {
      Semacquire(&s, lifo[i]);
      order.push_back(i);  // one waiter at a time: released one by one below
      recorded.fetch_add(1);
    });
    EXPECT_TRUE(WaitUntil([&] { return SemaWaiters(&s) == static_cast<size_t>(i + 1); }));
  }
  for (int i = 0; i < n; i++) {
    Semrelease(&s);
    EXPECT_TRUE(WaitUntil([&] { return recorded.load() == i + 1; }));
  }
  return order;
}

TEST(SemaTest, WaitersWakeInFifoOrder) {
  LeakCheck leaks;
  EXPECT_EQ(WakeOrder(5, {false, false, false, false, false}),
            (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(SemaTest, LifoWaiterJumpsToTheFront) {
  LeakCheck leaks;
  // 3 queues LIFO in front of 0..2; 4 queues LIFO in front of 3.
  EXPECT_EQ(WakeOrder(5, {false, false, false, true, true}), (std::vector<int>{4, 3, 0, 1, 2}));
}

TEST(SemaTest, HandoffRunsTheWaiterBeforeTheReleaserContinues) {
  LeakCheck leaks;
  ProcsGuard procs(1);
  std::atomic<uint32_t> s{0};
  std::atomic<bool> waiter_ran{false};
  std::atomic<bool> seen_before_return{false};
  Go([&] {
    Semacquire(&s);
    waiter_ran = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return SemaWaiters(&s) == 1; }));
  std::atomic<bool> done{false};
  Go([&] {
    Semrelease(&s, /*handoff=*/true);
    // With one P, the hand-off yielded our P to the waiter, which ran first.
    seen_before_return = waiter_ran.load();
    done = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return done.load(); }));
  EXPECT_TRUE(seen_before_return.load());
  EXPECT_EQ(s.load(), 0u);  // the unit went to the waiter, not to the count
}

TEST(SemaTest, CollidingAddressesWakeOnlyTheirOwnWaiters) {
  LeakCheck leaks;
  // Addresses 251 * 8 bytes apart share a bucket: a treap of many addresses.
  constexpr int kAddrs = 24, kPerAddr = 3;
  constexpr size_t kStride = 251 * 2;  // in uint32 words
  std::vector<std::atomic<uint32_t>> words(kStride * kAddrs);
  std::vector<std::atomic<int>> woke(kAddrs);
  std::mt19937 rng(12345);
  std::vector<int> plan;
  for (int a = 0; a < kAddrs; a++) {
    for (int k = 0; k < kPerAddr; k++) plan.push_back(a);
  }
  std::shuffle(plan.begin(), plan.end(), rng);
  for (int a : plan) {
    Go([&, a] {
      Semacquire(&words[a * kStride], /*lifo=*/a % 2 == 0);
      woke[a].fetch_add(1);
    });
  }
  ASSERT_TRUE(WaitUntil([&] {
    size_t n = 0;
    for (int a = 0; a < kAddrs; a++) n += SemaWaiters(&words[a * kStride]);
    return n == plan.size();
  }));
  std::vector<int> order(kAddrs);
  for (int a = 0; a < kAddrs; a++) order[a] = a;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<bool> released(kAddrs, false);
  for (int a : order) {
    released[a] = true;
    for (int k = 1; k <= kPerAddr; k++) {
      Semrelease(&words[a * kStride]);
      ASSERT_TRUE(WaitUntil([&] { return woke[a].load() == k; }));
    }
    for (int b = 0; b < kAddrs; b++) {
      if (!released[b]) {
        ASSERT_EQ(woke[b].load(), 0) << "address " << b << " woken early";
      }
    }
  }
}

TEST(SemaTest, CountingSemaphoreNeverAdmitsMoreThanItsUnits) {
  LeakCheck leaks;
  for (int procs : testing::kProcs) {
    ProcsGuard p(procs);
    constexpr uint32_t kUnits = 3;
    std::atomic<uint32_t> s{kUnits};
    std::atomic<int> inside{0}, max_inside{0};
    const int kIters = 3000 / kScale;
    auto body = [&](int) {
      for (int i = 0; i < kIters; i++) {
        Semacquire(&s, i % 3 == 0);
        int now = inside.fetch_add(1) + 1;
        int m = max_inside.load();
        while (now > m && !max_inside.compare_exchange_weak(m, now)) {
        }
        if (i % 7 == 0) Gosched();
        inside.fetch_sub(1);
        Semrelease(&s, i % 5 == 0);
      }
    };
    std::thread t([&] { body(-1); });  // a plain thread competes too
    RunGoroutines(8, body);
    t.join();
    EXPECT_LE(max_inside.load(), static_cast<int>(kUnits)) << "GOMAXPROCS=" << procs;
    EXPECT_EQ(s.load(), kUnits);
    EXPECT_EQ(SemaWaiters(&s), 0u);
  }
}

TEST(NotifyListTest, NotifyBeforeWaitIsNotLost) {
  NotifyList l;
  uint32_t t = l.Add();
  l.NotifyOne();
  l.Wait(t, sched::WaitReason::kCondWait);  // returns at once
  uint32_t t2 = l.Add();
  uint32_t t3 = l.Add();
  l.NotifyAll();
  l.Wait(t3, sched::WaitReason::kCondWait);
  l.Wait(t2, sched::WaitReason::kCondWait);
  SUCCEED();
}

TEST(NotifyListTest, NotifyOneWakesInTicketOrderAndNotifyAllWakesTheRest) {
  LeakCheck leaks;
  NotifyList l;
  std::vector<int> order;
  std::atomic<int> parked{0}, woke{0};
  // Tickets are taken in order 0..3, as a Cond waiter takes one under its lock.
  std::vector<uint32_t> tickets;
  for (int i = 0; i < 4; i++) tickets.push_back(l.Add());
  for (int i = 3; i >= 0; i--) {  // queue in reverse: order must follow tickets
    Go([&, i] {
      parked++;
      l.Wait(tickets[i], sched::WaitReason::kCondWait);
      if (i < 2) order.push_back(i);  // woken one at a time by NotifyOne
      woke++;
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return parked.load() == 4; }));
  // Give the four a moment to actually sleep: not required for correctness
  // (a notified ticket never sleeps), only to exercise the queued path.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  l.NotifyOne();
  ASSERT_TRUE(WaitUntil([&] { return woke.load() == 1; }));
  l.NotifyOne();
  ASSERT_TRUE(WaitUntil([&] { return woke.load() == 2; }));
  EXPECT_EQ(order, (std::vector<int>{0, 1}));
  l.NotifyAll();
  ASSERT_TRUE(WaitUntil([&] { return woke.load() == 4; }));
}

}  // namespace
}  // namespace go::sync::internal
