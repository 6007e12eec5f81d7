// Tests for sync::RWMutex: readers share, writers exclude, a pending writer
// blocks new readers (so a stream of readers cannot starve it), Try*,
// standard adaptors, misuse panics, and the Unlock/RUnlock edges.
#include "runtime/sync/rwmutex.h"

#include <atomic>
#include <mutex>
#include <shared_mutex>
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

TEST(RWMutexTest, TryLocksAndStandardAdaptors) {
  RWMutex rw;
  EXPECT_TRUE(rw.TryRLock());
  EXPECT_TRUE(rw.TryRLock());   // readers share
  EXPECT_FALSE(rw.TryLock());   // a writer does not get in
  rw.RUnlock();
  rw.RUnlock();
  EXPECT_TRUE(rw.TryLock());
  EXPECT_FALSE(rw.TryRLock());  // nor does a reader while a writer holds it
  EXPECT_FALSE(rw.TryLock());
  rw.Unlock();
  {
    std::shared_lock<RWMutex> r1(rw);
    std::shared_lock<RWMutex> r2(rw);
    EXPECT_FALSE(rw.try_lock());
  }
  {
    std::unique_lock<RWMutex> w(rw);
    EXPECT_FALSE(rw.try_lock_shared());
  }
  EXPECT_TRUE(rw.try_lock());
  rw.unlock();
}

TEST(RWMutexTest, MisusePanicsWithGoMessagesAndLeavesTheLockUsable) {
  RWMutex rw;
  try {
    rw.RUnlock();
    FAIL() << "no panic";
  } catch (const Panic& p) {
    EXPECT_STREQ(p.what(), "sync: RUnlock of unlocked RWMutex");
  }
  try {
    rw.Unlock();
    FAIL() << "no panic";
  } catch (const Panic& p) {
    EXPECT_STREQ(p.what(), "sync: Unlock of unlocked RWMutex");
  }
  rw.Lock();
  EXPECT_THROW(rw.RUnlock(), Panic);  // write-locked, not read-locked
  rw.Unlock();
  rw.RLock();
  EXPECT_THROW(rw.Unlock(), Panic);  // read-locked, not write-locked
  rw.RUnlock();
  EXPECT_TRUE(rw.TryLock());
  rw.Unlock();
}

TEST(RWMutexTest, ReadersHoldTheLockTogether) {
  LeakCheck leaks;
  ProcsGuard p(1);  // even on one P: a reader waits for the others while holding it
  RWMutex rw;
  constexpr int kReaders = 5;
  std::atomic<int> inside{0};
  RunGoroutines(kReaders, [&](int) {
    rw.RLock();
    inside++;
    while (inside.load() < kReaders) Gosched();  // would deadlock if readers excluded each other
    rw.RUnlock();
  });
  EXPECT_TRUE(rw.TryLock());
  rw.Unlock();
}

TEST(RWMutexTest, WritersExcludeEveryoneAtEveryProcCount) {
  LeakCheck leaks;
  for (int procs : kProcs) {
    ProcsGuard p(procs);
    RWMutex rw;
    int64_t a = 0, b = 0;  // plain data: equal whenever a reader looks
    std::atomic<int> writers_inside{0}, readers_inside{0};
    std::atomic<bool> bad{false};
    const int kIters = 5000 / kScale;
    RunGoroutines(8, [&](int i) {
      for (int k = 0; k < kIters; k++) {
        if ((i + k) % 8 == 0) {
          rw.Lock();
          if (writers_inside.fetch_add(1) != 0 || readers_inside.load() != 0) bad = true;
          a++;
          if (k % 16 == 0) Gosched();
          b++;
          writers_inside.fetch_sub(1);
          rw.Unlock();
        } else {
          rw.RLock();
          readers_inside.fetch_add(1);
          if (writers_inside.load() != 0 || a != b) bad = true;
          if (k % 16 == 1) Gosched();
          readers_inside.fetch_sub(1);
          rw.RUnlock();
        }
      }
    });
    EXPECT_FALSE(bad.load()) << "GOMAXPROCS=" << procs;
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, 8 * kIters / 8);
  }
}

TEST(RWMutexTest, PendingWriterBlocksNewReaders) {
  LeakCheck leaks;
  ProcsGuard p(2);
  RWMutex rw;
  rw.RLock();  // an active reader (this thread)
  std::atomic<int> step{0};
  std::atomic<int> writer_done_at{0}, reader_got_at{0}, exited{0};
  Go([&] {
    rw.Lock();  // pending: waits for our reader
    writer_done_at = ++step;
    rw.Unlock();
    exited++;
  });
  // Wait until the writer has announced itself: then TryRLock fails.
  ASSERT_TRUE(WaitUntil([&] {
    if (rw.TryRLock()) {
      rw.RUnlock();
      return false;
    }
    return true;
  }));
  Go([&] {
    rw.RLock();  // a new reader queues behind the pending writer
    reader_got_at = ++step;
    rw.RUnlock();
    exited++;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(step.load(), 0);  // neither may proceed while we read
  rw.RUnlock();
  ASSERT_TRUE(WaitUntil([&] { return reader_got_at.load() != 0; }));
  EXPECT_EQ(writer_done_at.load(), 1);
  EXPECT_EQ(reader_got_at.load(), 2);
  ASSERT_TRUE(WaitUntil([&] { return exited.load() == 2; }));
}

TEST(RWMutexTest, WriterIsNotStarvedByAStreamOfReaders) {
  LeakCheck leaks;
  for (int procs : {1, 2, 4}) {
    ProcsGuard p(procs);
    RWMutex rw;
    std::atomic<bool> writer_done{false};
    std::atomic<int> readers_done{0};
    constexpr int kReaders = 6;
    // Overlapping readers: without writer preference some reader would
    // always hold the lock and Lock would never return.
    for (int i = 0; i < kReaders; i++) {
      Go([&] {
        while (!writer_done.load()) {
          rw.RLock();
          Gosched();
          rw.RUnlock();
        }
        readers_done++;
      });
    }
    std::thread writer([&] {
      for (int k = 0; k < 20; k++) {
        rw.Lock();
        rw.Unlock();
      }
      writer_done = true;
    });
    writer.join();  // returns: the writer got through 20 times
    ASSERT_TRUE(WaitUntil([&] { return readers_done.load() == kReaders; }));
  }
}

// Memory model: the n-th Unlock happens before RLocks that return after it,
// and each RUnlock happens before the next Lock returns. Plain data.
TEST(RWMutexTest, UnlockAndRUnlockPublishPlainData) {
  LeakCheck leaks;
  ProcsGuard p(4);
  RWMutex rw;
  int64_t version = 0;
  int64_t payload[4] = {};
  std::atomic<int64_t> total_reads{0};
  const int kIters = 3000 / kScale;
  RunGoroutines(6, [&](int i) {
    for (int k = 0; k < kIters; k++) {
      if (i < 2) {
        rw.Lock();
        version++;
        for (auto& x : payload) x = version;
        rw.Unlock();
      } else {
        rw.RLock();
        int64_t v = version;
        for (auto x : payload) EXPECT_EQ(x, v);
        rw.RUnlock();
        total_reads++;
      }
    }
  });
  EXPECT_EQ(version, 2 * kIters);
  EXPECT_EQ(total_reads.load(), 4 * kIters);
}

}  // namespace
}  // namespace go::sync
