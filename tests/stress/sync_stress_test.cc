// Stress tests for package sync: many goroutines (and a few threads) doing
// seeded random mixes of operations with exact accounting, at GOMAXPROCS
// 1..8. Each test prints its seed; rerun one with SYNC_STRESS_SEED=<seed>.
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <random>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/go.h"
#include "runtime/sync/internal/sync_testing.h"

namespace go::sync {
namespace {

using testing::kProcs;
using testing::kScale;
using testing::LeakCheck;
using testing::ProcsGuard;
using testing::RunGoroutines;

uint64_t Seed() {
  uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("SYNC_STRESS_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::printf("sync stress seed: %" PRIu64 " (rerun with SYNC_STRESS_SEED=%" PRIu64 ")\n", seed,
              seed);
  return seed;
}

// Several mutexes, each guarding a plain counter and an "owner" slot; workers
// pick a mutex at random and lock it with Lock, TryLock or std::lock_guard,
// hold it for a random number of yields (long holds push waiters into
// starvation mode), and check that nobody else is inside.
TEST(SyncStressTest, RandomMutexWorkloadKeepsExactCounts) {
  LeakCheck leaks;
  const uint64_t seed = Seed();
  for (int procs : kProcs) {
    ProcsGuard p(procs);
    constexpr int kLocks = 3;
    struct Guarded {
      Mutex mu;
      int64_t count = 0;  // plain: guarded by mu
      int owner = -1;     // plain: guarded by mu
    };
    Guarded g[kLocks];
    std::atomic<int64_t> expected[kLocks] = {};
    std::atomic<int> violations{0};
    const int kWorkers = 24, kIters = 6000 / kScale;
    auto body = [&](int id) {
      std::mt19937_64 rng(seed + static_cast<uint64_t>(id) * 7919 + procs);
      for (int i = 0; i < kIters; i++) {
        Guarded& x = g[rng() % kLocks];
        const int how = static_cast<int>(rng() % 3);
        if (how == 1 && !x.mu.TryLock()) {
          Gosched();
          continue;
        }
        if (how != 1) x.mu.Lock();
        if (x.owner != -1) violations++;
        x.owner = id;
        x.count++;
        for (int y = static_cast<int>(rng() % 4); y > 0; y--) Gosched();
        if (x.owner != id) violations++;
        x.owner = -1;
        x.mu.Unlock();
        expected[&x - g].fetch_add(1);
      }
    };
    std::thread t([&] { body(1000); });
    RunGoroutines(kWorkers, body);
    t.join();
    EXPECT_EQ(violations.load(), 0) << "GOMAXPROCS=" << procs;
    for (int k = 0; k < kLocks; k++) {
      EXPECT_EQ(g[k].count, expected[k].load());
      EXPECT_FALSE(g[k].mu.Starving());
      EXPECT_EQ(g[k].mu.Waiters(), 0);
    }
  }
}

// Readers check an invariant (a == b) that writers break only while they
// hold the write lock; some readers use TryRLock, some writers TryLock.
TEST(SyncStressTest, RandomRWMutexWorkloadNeverShowsAHalfWrite) {
  LeakCheck leaks;
  const uint64_t seed = Seed();
  for (int procs : kProcs) {
    ProcsGuard p(procs);
    RWMutex rw;
    int64_t a = 0, b = 0;
    std::atomic<int64_t> writes{0};
    std::atomic<int> bad{0};
    const int kIters = 6000 / kScale;
    RunGoroutines(16, [&](int id) {
      std::mt19937_64 rng(seed + static_cast<uint64_t>(id) * 104729 + procs);
      for (int i = 0; i < kIters; i++) {
        const int op = static_cast<int>(rng() % 10);
        if (op == 0 || (op == 1 && rw.TryLock())) {
          if (op == 0) rw.Lock();
          a++;
          if (rng() % 4 == 0) Gosched();
          b++;
          rw.Unlock();
          writes++;
        } else if (op == 2) {
          if (rw.TryRLock()) {
            if (a != b) bad++;
            rw.RUnlock();
          }
        } else if (op != 1) {
          std::shared_lock<RWMutex> l(rw);
          if (a != b) bad++;
          if (rng() % 8 == 0) Gosched();
        }
      }
    });
    EXPECT_EQ(bad.load(), 0) << "GOMAXPROCS=" << procs;
    EXPECT_EQ(a, writes.load());
    EXPECT_EQ(a, b);
  }
}

// Nested fan-out: each level waits for its children with its own WaitGroup
// (Add before Go, Go(f), Done from another goroutine), while a Once and a
// Cond-protected queue are shared by all of them.
TEST(SyncStressTest, TreeOfWaitGroupsOnceAndCondQueue) {
  LeakCheck leaks;
  const uint64_t seed = Seed();
  for (int procs : kProcs) {
    ProcsGuard p(procs);
    Once once;
    std::atomic<int> once_calls{0};
    Mutex qmu;
    Cond qcond(qmu);
    std::deque<int> q;  // guarded by qmu
    std::atomic<int> leaves{0}, consumed{0};
    const int kFanout = 3, kDepth = 4;  // 81 leaves
    std::function<void(int, uint64_t)> node = [&](int depth, uint64_t s) {
      once.Do([&] { once_calls++; });
      if (depth == kDepth) {
        leaves++;
        {
          std::lock_guard<Mutex> l(qmu);
          q.push_back(static_cast<int>(s % 1000));
        }
        qcond.Signal();
        return;
      }
      WaitGroup wg;
      for (int c = 0; c < kFanout; c++) {
        const uint64_t cs = s * 31 + static_cast<uint64_t>(c) + 1;
        if (cs % 2 == 0) {
          wg.Go([&node, depth, cs] { node(depth + 1, cs); });
        } else {
          wg.Add(1);
          Go([&node, &wg, depth, cs] {
            node(depth + 1, cs);
            wg.Done();
          });
        }
      }
      wg.Wait();
    };
    const int kLeaves = 81;
    std::atomic<bool> consumer_done{false};
    Go([&] {
      for (int got = 0; got < kLeaves; got++) {
        std::unique_lock<Mutex> l(qmu);
        while (q.empty()) qcond.Wait();
        q.pop_front();
        consumed++;
      }
      consumer_done = true;
    });
    WaitGroup root;
    root.Go([&] { node(0, seed + static_cast<uint64_t>(procs)); });
    root.Wait();
    ASSERT_TRUE(testing::WaitUntil([&] { return consumer_done.load(); }));
    EXPECT_EQ(once_calls.load(), 1);
    EXPECT_EQ(leaves.load(), kLeaves);
    EXPECT_EQ(consumed.load(), kLeaves);
  }
}

// Objects circulate through a Pool between goroutines and threads while the
// cache is aged concurrently; every object has one owner at a time and none
// is lost or destroyed twice.
TEST(SyncStressTest, PoolObjectsCirculateWithOneOwner) {
  LeakCheck leaks;
  static std::atomic<int> alive{0};
  struct Obj {
    Obj() { alive++; }
    ~Obj() { alive--; }
    std::atomic<int> owner{0};
  };
  const uint64_t seed = Seed();
  for (int procs : kProcs) {
    ProcsGuard p(procs);
    {
      Pool<Obj> pool([] { return std::make_unique<Obj>(); });
      std::atomic<int> bad{0};
      std::atomic<bool> stop{false};
      std::thread ager([&] {
        while (!stop.load()) {
          internal::PoolCore::CleanupAllForTesting();
          std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
      });
      const int kIters = 10000 / kScale;
      auto body = [&](int id) {
        std::mt19937_64 rng(seed + static_cast<uint64_t>(id));
        std::vector<std::unique_ptr<Obj>> held;
        for (int i = 0; i < kIters; i++) {
          if (held.empty() || rng() % 3 != 0) {
            auto o = pool.Get();
            int free = 0;
            if (!o->owner.compare_exchange_strong(free, id + 1)) bad++;
            held.push_back(std::move(o));
          } else {
            auto o = std::move(held.back());
            held.pop_back();
            o->owner.store(0);
            pool.Put(std::move(o));
          }
          if (i % 50 == 0) Gosched();
        }
        for (auto& o : held) {
          o->owner.store(0);
          pool.Put(std::move(o));
        }
      };
      std::thread t([&] { body(500); });
      RunGoroutines(12, body);
      t.join();
      stop = true;
      ager.join();
      EXPECT_EQ(bad.load(), 0) << "GOMAXPROCS=" << procs;
    }
    EXPECT_EQ(alive.load(), 0);
  }
}

// A sync::Map shared by all: each worker owns some keys (exact values) and
// reads everybody's; Range runs concurrently and may only see valid values.
TEST(SyncStressTest, MapWithOwnedKeysAndSharedReaders) {
  LeakCheck leaks;
  const uint64_t seed = Seed();
  for (int procs : kProcs) {
    ProcsGuard p(procs);
    Map<int, int64_t> m;
    constexpr int kWorkers = 12, kKeysEach = 20;
    std::atomic<int> bad{0};
    const int kIters = 8000 / kScale;
    RunGoroutines(kWorkers, [&](int id) {
      std::mt19937_64 rng(seed + static_cast<uint64_t>(id) * 31337);
      std::vector<int64_t> mine(kKeysEach, -1);  // -1: absent
      for (int i = 0; i < kIters; i++) {
        const int slot = static_cast<int>(rng() % kKeysEach);
        const int key = id * kKeysEach + slot;
        switch (rng() % 6) {
          case 0:
            mine[slot] = static_cast<int64_t>(key) * 1000000 + i;
            m.Store(key, mine[slot]);
            break;
          case 1: {
            auto v = m.LoadAndDelete(key);
            if ((v ? *v : -1) != mine[slot]) bad++;
            mine[slot] = -1;
            break;
          }
          case 2: {
            auto v = m.Load(key);
            if ((v ? *v : -1) != mine[slot]) bad++;
            break;
          }
          case 3: {
            const int other = static_cast<int>(rng() % (kWorkers * kKeysEach));
            if (auto v = m.Load(other); v && *v / 1000000 != other) bad++;
            break;
          }
          case 4: {
            auto [v, loaded] = m.LoadOrStore(key, static_cast<int64_t>(key) * 1000000);
            if (loaded != (mine[slot] != -1)) bad++;
            if (!loaded) mine[slot] = v;
            if (v != mine[slot]) bad++;
            break;
          }
          case 5:
            if (i % 40 == 5) {
              m.Range([&](const int& k, const int64_t& v) {
                if (v / 1000000 != k) bad++;
                return true;
              });
            }
            break;
        }
      }
    });
    EXPECT_EQ(bad.load(), 0) << "GOMAXPROCS=" << procs;
  }
}

}  // namespace
}  // namespace go::sync
