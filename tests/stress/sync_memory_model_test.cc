// The Go memory model's happens-before edges for package sync and atomic,
// each checked by passing PLAIN (non-atomic) data across it. Run under
// --config=tsan, a missing edge is reported as a data race; in the other
// configs the tests check the values.
//
//   Mutex       Unlock -> next Lock (also TryLock, and starvation hand-off)
//   RWMutex     Unlock -> RLock, RUnlock -> next Lock
//   WaitGroup   Done -> the Wait it releases
//   Once        f's return -> every Do's return (OnceFunc, OnceValue too)
//   Cond        Signal / Broadcast -> the Wait it wakes
//   Pool        Put(x) -> the Get that returns x
//   Map         Store(k, v) -> the Load that returns v
//   atomic      Store -> the Load that observes it
//
// Each edge is exercised between goroutines and between a goroutine and a
// plain thread.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/go.h"
#include "runtime/sync/internal/sync_testing.h"

namespace go::sync {
namespace {

using testing::kScale;
using testing::LeakCheck;
using testing::ProcsGuard;
using testing::RunGoroutines;
using testing::WaitUntil;

struct Plain {
  int64_t n = 0;
  std::string s;
  std::vector<int> v;
  void Write(int64_t i) {
    n = i;
    s = std::to_string(i);
    v.assign(4, static_cast<int>(i));
  }
  bool Consistent() const {
    return s == std::to_string(n) && v.size() == 4 && v[0] == static_cast<int>(n);
  }
};

const int kRounds = 400 / kScale + 20;

// Two parties take turns writing `data` under the lock; the turn variable
// is itself plain data guarded by the lock.
TEST(MemoryModelTest, MutexUnlockHappensBeforeNextLock) {
  LeakCheck leaks;
  ProcsGuard p(4);
  Mutex mu;
  Plain data;
  int turn = 0;  // guarded by mu
  auto party = [&](int me) {
    for (int r = 0; r < kRounds;) {
      if (r % 3 == 0 ? mu.TryLock() : (mu.Lock(), true)) {
        if (turn % 2 == me) {
          EXPECT_TRUE(turn == 0 || data.Consistent());
          data.Write(turn);
          turn++;
          r++;
        }
        mu.Unlock();
      }
      Gosched();
    }
  };
  std::thread t([&] { party(1); });  // a plain thread on one side
  RunGoroutines(1, [&](int) { party(0); });
  t.join();
  EXPECT_EQ(turn, 2 * kRounds);
}

// In starvation mode the mutex is handed over by Semrelease(handoff) and the
// waiter never touches the lock word before it owns the mutex: the edge must
// come through the hand-off.
TEST(MemoryModelTest, StarvationHandOffPublishesTheHoldersWrites) {
  LeakCheck leaks;
  ProcsGuard p(1);
  Mutex mu;
  Plain data;
  std::atomic<bool> stop{false}, saw_starving{false}, holder_exited{false};
  std::atomic<int> waiters_done{0};
  Go([&] {
    int64_t i = 0;
    while (!stop.load()) {
      mu.Lock();
      data.Write(++i);
      Gosched();  // waiters try, lose, and after 1 ms make the mutex starve
      if (mu.Starving()) saw_starving = true;
      mu.Unlock();
    }
    holder_exited = true;
  });
  for (int w = 0; w < 3; w++) {
    Go([&] {
      mu.Lock();
      EXPECT_TRUE(data.Consistent());
      data.Write(-1);
      mu.Unlock();
      waiters_done++;
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return waiters_done.load() == 3; }));
  stop = true;
  ASSERT_TRUE(WaitUntil([&] { return holder_exited.load(); }));
  EXPECT_TRUE(saw_starving.load());
}

TEST(MemoryModelTest, RWMutexUnlockBeforeRLockAndRUnlockBeforeLock) {
  LeakCheck leaks;
  ProcsGuard p(4);
  RWMutex rw;
  Plain data;
  std::vector<int64_t> reads(3, 0);  // each reader's slot, guarded by rw
  RunGoroutines(4, [&](int id) {
    for (int r = 0; r < kRounds; r++) {
      if (id == 0) {
        rw.Lock();
        // RUnlock -> Lock: the readers' plain writes to `reads` are visible.
        int64_t sum = 0;
        for (int64_t x : reads) sum += x;
        EXPECT_GE(sum, 0);
        data.Write(r);
        rw.Unlock();
      } else {
        rw.RLock();
        EXPECT_TRUE(data.n == 0 || data.Consistent());  // Unlock -> RLock
        rw.RUnlock();
        rw.Lock();  // a reader's own write, under the write lock
        reads[id - 1]++;
        rw.Unlock();
      }
      if (r % 8 == 0) Gosched();
    }
  });
  EXPECT_EQ(reads[0], kRounds);
}

TEST(MemoryModelTest, WaitGroupDoneHappensBeforeWaitReturns) {
  LeakCheck leaks;
  ProcsGuard p(4);
  for (int r = 0; r < kRounds / 4; r++) {
    std::vector<Plain> out(6);
    WaitGroup wg;
    for (int i = 0; i < 5; i++) wg.Go([&out, i, r] { out[i].Write(r * 10 + i); });
    wg.Add(1);
    std::thread t([&] {
      out[5].Write(r * 10 + 5);
      wg.Done();
    });
    wg.Wait();
    for (int i = 0; i < 6; i++) EXPECT_EQ(out[i].n, r * 10 + i);
    t.join();
  }
}

TEST(MemoryModelTest, OnceFunctionHappensBeforeEveryDoReturns) {
  LeakCheck leaks;
  ProcsGuard p(4);
  for (int r = 0; r < 20; r++) {
    Once once;
    Plain data, fdata;
    auto f = OnceFunc([&] { fdata.Write(7); });
    Plain vdata;
    auto v = OnceValue<std::string>([&] {
      vdata.Write(8);
      return std::string("v");
    });
    std::thread t([&] {
      once.Do([&] { data.Write(r); });
      EXPECT_TRUE(data.Consistent());
    });
    RunGoroutines(4, [&](int) {
      once.Do([&] { data.Write(r); });
      EXPECT_TRUE(data.Consistent());
      f();
      EXPECT_EQ(fdata.n, 7);
      EXPECT_EQ(v(), "v");
      EXPECT_EQ(vdata.n, 8);
    });
    t.join();
  }
}

TEST(MemoryModelTest, CondSignalAndBroadcastPublishToTheWokenWaiter) {
  LeakCheck leaks;
  ProcsGuard p(4);
  Mutex mu;
  Cond filled(mu), emptied(mu);
  Plain box;         // guarded by mu
  int round = 0;     // guarded by mu: the last round written
  int consumed = 0;  // guarded by mu: the last round read
  std::thread consumer([&] {
    for (int r = 1; r <= kRounds; r++) {
      {
        std::unique_lock<Mutex> l(mu);
        while (round < r) filled.Wait();
        EXPECT_TRUE(box.Consistent());
        EXPECT_EQ(box.n, r);
        consumed = r;
      }
      emptied.Signal();
    }
  });
  RunGoroutines(1, [&](int) {
    for (int r = 1; r <= kRounds; r++) {
      {
        std::unique_lock<Mutex> l(mu);
        while (consumed < r - 1) emptied.Wait();
        box.Write(r);
        round = r;
      }
      if (r % 2) {
        filled.Signal();
      } else {
        filled.Broadcast();
      }
    }
  });
  consumer.join();
}

TEST(MemoryModelTest, PoolPutHappensBeforeTheGetThatReturnsTheObject) {
  LeakCheck leaks;
  ProcsGuard p(4);
  Pool<Plain> pool([] { return std::make_unique<Plain>(); });
  std::atomic<int> bad{0};
  auto body = [&](int id) {
    for (int r = 0; r < kRounds; r++) {
      auto x = pool.Get();
      if (x->n != 0 && !x->Consistent()) bad++;
      x->Write(id * 100000 + r);
      pool.Put(std::move(x));
      if (r % 4 == 0) Gosched();
    }
  };
  std::thread t([&] { body(99); });
  RunGoroutines(6, body);
  t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(MemoryModelTest, MapStoreHappensBeforeTheLoadThatSeesIt) {
  LeakCheck leaks;
  ProcsGuard p(4);
  Map<int, std::shared_ptr<Plain>> m;
  std::thread writer([&] {
    for (int k = 0; k < kRounds; k++) {
      auto pl = std::make_shared<Plain>();
      pl->Write(k);
      m.Store(k, pl);
    }
  });
  RunGoroutines(3, [&](int) {
    for (int k = 0; k < kRounds; k++) {
      std::optional<std::shared_ptr<Plain>> v;
      while (!(v = m.Load(k))) Gosched();
      EXPECT_TRUE((*v)->Consistent());
      EXPECT_EQ((*v)->n, k);
    }
  });
  writer.join();
}

TEST(MemoryModelTest, AtomicStoreHappensBeforeTheLoadThatObservesIt) {
  LeakCheck leaks;
  ProcsGuard p(4);
  for (int r = 0; r < kRounds / 4; r++) {
    Plain data;
    atomic::Bool ready;
    atomic::Pointer<Plain> ptr;
    atomic::Int64 seq;
    RunGoroutines(2, [&](int id) {
      if (id == 0) {
        data.Write(r);
        ready.Store(true);
        ptr.Store(&data);
        seq.Add(1);
      } else {
        while (!ready.Load()) Gosched();
        EXPECT_TRUE(data.Consistent());
        while (ptr.Load() == nullptr) Gosched();
        EXPECT_EQ(ptr.Load()->n, r);
        while (seq.Load() == 0) Gosched();
      }
    });
  }
}

}  // namespace
}  // namespace go::sync
