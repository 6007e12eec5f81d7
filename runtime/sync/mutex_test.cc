// Tests for sync::Mutex: mutual exclusion from goroutines and threads at
// several GOMAXPROCS, the standard lock adaptors, TryLock under contention,
// misuse, and starvation mode engaging and draining (observed through the
// diagnostic state accessors, never through wall-clock timings).
#include "runtime/sync/mutex.h"

#include <atomic>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/sync/internal/sync_testing.h"

namespace go::sync {
namespace {

using testing::kProcs;
using testing::kScale;
using testing::LeakCheck;
using testing::ProcsGuard;
using testing::RunGoroutines;
using testing::WaitUntil;

TEST(MutexTest, LockUnlockAndStandardAdaptors) {
  Mutex a, b;
  a.Lock();
  EXPECT_FALSE(a.TryLock());
  a.Unlock();
  EXPECT_TRUE(a.TryLock());
  a.Unlock();
  {
    std::lock_guard<Mutex> l(a);
    EXPECT_FALSE(a.try_lock());
  }
  {
    std::unique_lock<Mutex> l(a);
    l.unlock();
    EXPECT_TRUE(l.try_lock());
  }
  {
    std::scoped_lock l(a, b);  // std::lock's deadlock avoidance uses try_lock
    EXPECT_FALSE(b.TryLock());
  }
  EXPECT_TRUE(a.TryLock() && b.TryLock());
  a.Unlock();
  b.Unlock();
}

TEST(MutexTest, UnlockOfUnlockedMutexPanicsAndLeavesItUsable) {
  Mutex m;
  try {
    m.Unlock();
    FAIL() << "no panic";
  } catch (const Panic& p) {
    EXPECT_STREQ(p.what(), "sync: unlock of unlocked mutex");
  }
  m.Lock();
  m.Unlock();
  EXPECT_THROW(m.Unlock(), Panic);
  EXPECT_TRUE(m.TryLock());
  m.Unlock();
}

TEST(MutexTest, ScopedLockOfTwoMutexesInOppositeOrdersDoesNotDeadlock) {
  LeakCheck leaks;
  ProcsGuard procs(4);
  Mutex a, b;
  int64_t n = 0;
  const int kIters = 2000 / kScale;
  RunGoroutines(4, [&](int i) {
    for (int k = 0; k < kIters; k++) {
      if (i % 2 == 0) {
        std::scoped_lock l(a, b);
        n++;
      } else {
        std::scoped_lock l(b, a);
        n++;
      }
    }
  });
  EXPECT_EQ(n, 4 * kIters);
}

// The classic: a plain (non-atomic) counter under the lock, incremented from
// goroutines and threads; under TSan this is also the Unlock -> Lock edge.
TEST(MutexTest, MutualExclusionAtEveryProcCount) {
  LeakCheck leaks;
  for (int procs : kProcs) {
    ProcsGuard p(procs);
    Mutex m;
    int64_t counter = 0;
    std::atomic<int> inside{0};
    std::atomic<bool> overlap{false};
    const int kIters = 20000 / kScale;
    auto body = [&](int i) {
      for (int k = 0; k < kIters; k++) {
        m.Lock();
        if (inside.fetch_add(1) != 0) overlap = true;
        counter++;
        if (k % 64 == i % 64) Gosched();  // hold it across a reschedule now and then
        inside.fetch_sub(1);
        m.Unlock();
      }
    };
    std::thread t1([&] { body(-1); });
    std::thread t2([&] { body(-2); });
    RunGoroutines(8, body);
    t1.join();
    t2.join();
    EXPECT_FALSE(overlap.load()) << "GOMAXPROCS=" << procs;
    EXPECT_EQ(counter, 10 * kIters) << "GOMAXPROCS=" << procs;
    EXPECT_EQ(m.Waiters(), 0);
    EXPECT_FALSE(m.Starving());
  }
}

TEST(MutexTest, TryLockUnderContentionNeverBreaksExclusion) {
  LeakCheck leaks;
  for (int procs : {1, 4}) {
    ProcsGuard p(procs);
    Mutex m;
    int64_t counter = 0;
    std::atomic<int64_t> successes{0}, failures{0};
    const int kIters = 10000 / kScale;
    RunGoroutines(6, [&](int i) {
      for (int k = 0; k < kIters; k++) {
        if (i % 2 == 0) {
          m.Lock();
          counter++;
          m.Unlock();
        } else if (m.TryLock()) {
          counter++;
          successes++;
          m.Unlock();
        } else {
          failures++;
          Gosched();
        }
      }
    });
    EXPECT_EQ(counter, 3 * kIters + successes.load());
    EXPECT_EQ(successes.load() + failures.load(), 3 * kIters);
  }
}

TEST(MutexTest, TryLockFailsWhileHeldWithWaitersAndSucceedsAfter) {
  LeakCheck leaks;
  ProcsGuard p(1);
  Mutex m;
  m.Lock();
  std::atomic<bool> done{false};
  Go([&] {
    m.Lock();  // waits; gets it by hand-off
    m.Unlock();
    done = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return m.Waiters() == 1; }));
  EXPECT_FALSE(m.TryLock());
  m.Unlock();
  ASSERT_TRUE(WaitUntil([&] { return done.load(); }));
  EXPECT_TRUE(m.TryLock());
  m.Unlock();
}

// One goroutine holds the mutex almost all the time and re-locks at once
// after each Unlock, yielding only while it holds it. A single waiter is
// woken on every Unlock, loses to the holder (which is still running),
// requeues at the front, and after 1 ms of this switches the mutex to
// starvation mode; the next Unlock then hands it over. The holder observes
// the mode while it holds the mutex; once the waiter (the last one) has it,
// the mode is over.
struct StarvationRun {
  bool saw_starving = false;
  int waiters_done = 0;
};

StarvationRun RunStarvation(int waiters) {
  Mutex m;
  std::atomic<int> done{0};
  std::atomic<bool> stop{false};
  StarvationRun r;
  std::atomic<bool> hog_exited{false};
  Go([&] {
    while (!stop.load()) {
      m.Lock();
      Gosched();  // let waiters try (and fail) while we hold it
      if (m.Starving()) r.saw_starving = true;
      m.Unlock();
    }
    hog_exited = true;
  });
  for (int i = 0; i < waiters; i++) {
    Go([&] {
      m.Lock();
      m.Unlock();
      done.fetch_add(1);
    });
  }
  EXPECT_TRUE(WaitUntil([&] { return done.load() == waiters; }));
  stop = true;
  EXPECT_TRUE(WaitUntil([&] { return hog_exited.load(); }));
  r.waiters_done = done.load();
  EXPECT_FALSE(m.Starving()) << "starvation mode did not end once the queue drained";
  EXPECT_EQ(m.Waiters(), 0);
  return r;
}

TEST(MutexTest, StarvationModeEngagesForABargedWaiterAndEndsWhenDrained) {
  LeakCheck leaks;
  ProcsGuard p(1);  // one P: the holder always wins the race in normal mode
  StarvationRun r = RunStarvation(1);
  EXPECT_TRUE(r.saw_starving);
  EXPECT_EQ(r.waiters_done, 1);
}

TEST(MutexTest, StarvationModeHandsOffToEveryQueuedWaiter) {
  LeakCheck leaks;
  ProcsGuard p(1);
  StarvationRun r = RunStarvation(4);
  EXPECT_TRUE(r.saw_starving);
  EXPECT_EQ(r.waiters_done, 4);
}

TEST(MutexTest, StarvationModeOnSeveralProcsStillServesEveryWaiter) {
  LeakCheck leaks;
  for (int procs : {2, 4}) {
    ProcsGuard p(procs);
    // Whether the mode engages here depends on timing; that every waiter
    // gets the mutex and the mode ends must not.
    StarvationRun r = RunStarvation(3);
    EXPECT_EQ(r.waiters_done, 3);
  }
}

TEST(MutexTest, LockedByOneGoroutineUnlockedByAnother) {
  LeakCheck leaks;
  Mutex m;
  m.Lock();
  std::atomic<bool> unlocked{false};
  Go([&] {
    m.Unlock();  // allowed, as in Go
    unlocked = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return unlocked.load(); }));
  m.Lock();
  m.Unlock();
}

TEST(MutexTest, ThreadsAndGoroutinesBlockOnEachOther) {
  LeakCheck leaks;
  ProcsGuard p(2);
  Mutex m;
  m.Lock();  // held by the main thread
  std::atomic<int> got{0};
  Go([&] {
    m.Lock();  // a goroutine parks behind a thread
    m.Unlock();
    got++;
  });
  std::thread t([&] {
    m.Lock();  // a thread sleeps behind a thread
    m.Unlock();
    got++;
  });
  ASSERT_TRUE(WaitUntil([&] { return m.Waiters() == 2; }));
  EXPECT_EQ(got.load(), 0);
  m.Unlock();
  t.join();
  ASSERT_TRUE(WaitUntil([&] { return got.load() == 2; }));
}

}  // namespace
}  // namespace go::sync
