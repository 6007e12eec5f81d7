// Tests for sync::Pool: round trips on goroutines and threads, New, the
// victim-cache aging rules (stepped by hand, then the real periodic
// cleanup), one owner per object under concurrent Get/Put/cleanup, the
// Put -> Get edge for plain data, and that nothing leaks.
#include "runtime/sync/pool.h"

#include <atomic>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/sync/internal/sync_testing.h"

namespace go::sync {
namespace {

using internal::PoolCore;
using testing::kProcs;
using testing::kScale;
using testing::LeakCheck;
using testing::ProcsGuard;
using testing::RunGoroutines;
using testing::RunThreads;
using testing::WaitUntil;

std::atomic<int> g_alive{0};

struct Obj {
  Obj() { g_alive++; }
  ~Obj() { g_alive--; }
  std::atomic<int> owner{0};  // who holds it: 0 = the pool
  int64_t payload = 0;        // plain data handed over by Put -> Get
};

// Stops the 2 s periodic cleanup for a test that steps cleanups by hand.
class PauseCleanup {
 public:
  PauseCleanup() { PoolCore::PausePeriodicCleanupForTesting(true); }
  ~PauseCleanup() { PoolCore::PausePeriodicCleanupForTesting(false); }
};

TEST(PoolTest, GetReturnsWhatWasPutOnAGoroutineAndOnAThread) {
  LeakCheck leaks;
  PauseCleanup pause;
  Pool<Obj> pool;
  EXPECT_EQ(pool.Get(), nullptr);  // no New: empty pool gives nullptr
  auto body = [&] {
    auto o = std::make_unique<Obj>();
    Obj* raw = o.get();
    pool.Put(std::move(o));
    auto back = pool.Get();
    EXPECT_EQ(back.get(), raw);
    EXPECT_EQ(pool.Get(), nullptr);
  };
  body();  // the main thread: no P, the locked list
  std::atomic<bool> done{false};
  Go([&] {
    body();  // a goroutine: its P's private slot
    done = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return done.load(); }));
  pool.Put(nullptr);  // ignored
  EXPECT_EQ(pool.Get(), nullptr);
  EXPECT_EQ(g_alive.load(), 0);
}

TEST(PoolTest, NewMakesObjectsWhenEmpty) {
  int made = 0;
  Pool<int> pool([&] {
    made++;
    return std::make_unique<int>(7);
  });
  auto a = pool.Get();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(*a, 7);
  pool.Put(std::move(a));
  auto b = pool.Get();  // reused, not made
  EXPECT_EQ(made, 1);
}

TEST(PoolTest, ThreadsGetWhatGoroutinesPutAndViceVersa) {
  LeakCheck leaks;
  PauseCleanup pause;
  Pool<Obj> pool;
  std::atomic<bool> done{false};
  Go([&] {
    for (int i = 0; i < 20; i++) pool.Put(std::make_unique<Obj>());  // 1 private, 19 shared
    done = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return done.load(); }));
  int got = 0;
  std::vector<std::unique_ptr<Obj>> held;
  while (auto o = pool.Get()) {  // a thread steals from the P's shared chain
    held.push_back(std::move(o));
    got++;
  }
  EXPECT_GE(got, 19);
  for (auto& o : held) pool.Put(std::move(o));  // into the locked list
  std::atomic<int> got_back{0};
  done = false;
  Go([&] {
    while (auto o = pool.Get()) got_back++;  // a goroutine finds the thread's objects
    done = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return done.load(); }));
  // All of the thread's objects, plus the private one if this goroutine runs
  // on the P that holds it.
  EXPECT_GE(got_back.load(), got);
  EXPECT_LE(got_back.load(), 20);
}

// The aging rules of pool.h, one cleanup at a time: an object survives the
// first cleanup after its Put (as a victim, still returned by Get) and is
// destroyed by the second.
TEST(PoolTest, AnUnusedObjectIsDroppedByTheSecondCleanupAfterItsPut) {
  PauseCleanup pause;
  for (bool on_goroutine : {false, true}) {
    Pool<Obj> pool;
    auto steps = [&] {
      pool.Put(std::make_unique<Obj>());
      PoolCore::CleanupAllForTesting();  // -> victim
      EXPECT_EQ(g_alive.load(), 1);
      auto o = pool.Get();  // victims are still served
      EXPECT_NE(o, nullptr);
      pool.Put(std::move(o));  // Put again: primary again
      PoolCore::CleanupAllForTesting();
      PoolCore::CleanupAllForTesting();  // second cleanup after the Put: dropped
      EXPECT_EQ(g_alive.load(), 0);
      EXPECT_EQ(pool.Get(), nullptr);
    };
    if (on_goroutine) {
      std::atomic<bool> done{false};
      Go([&] {
        steps();
        done = true;
      });
      ASSERT_TRUE(WaitUntil([&] { return done.load(); }));
    } else {
      steps();
    }
  }
}

TEST(PoolTest, ThePeriodicCleanupDropsIdleObjects) {
  LeakCheck leaks;
  Pool<Obj> pool;
  std::atomic<bool> done{false};
  Go([&] {
    for (int i = 0; i < 50; i++) pool.Put(std::make_unique<Obj>());
    done = true;
  });
  for (int i = 0; i < 10; i++) pool.Put(std::make_unique<Obj>());
  ASSERT_TRUE(WaitUntil([&] { return done.load(); }));
  EXPECT_EQ(g_alive.load(), 60);
  // Two cleanups, 2 s apart: dropped within ~4 s. The bound is generous.
  EXPECT_TRUE(WaitUntil([&] { return g_alive.load() == 0; }, 60)) << g_alive.load();
}

TEST(PoolTest, DestroyingThePoolDestroysWhatItHolds) {
  LeakCheck leaks;
  {
    Pool<Obj> pool;
    std::atomic<bool> done{false};
    Go([&] {
      for (int i = 0; i < 100; i++) pool.Put(std::make_unique<Obj>());
      done = true;
    });
    for (int i = 0; i < 5; i++) pool.Put(std::make_unique<Obj>());
    ASSERT_TRUE(WaitUntil([&] { return done.load(); }));
  }
  EXPECT_EQ(g_alive.load(), 0);
}

// Every object has one owner at a time, whatever mix of Gets, Puts, steals
// and cleanups runs concurrently; the plain payload written before Put is
// what the next Get sees (Put happens before that Get; TSan checks).
TEST(PoolTest, ConcurrentGetPutKeepsEachObjectWithOneOwner) {
  LeakCheck leaks;
  for (int procs : kProcs) {
    ProcsGuard p(procs);
    std::atomic<int> made{0};
    {
      Pool<Obj> pool([&] {
        made++;
        return std::make_unique<Obj>();
      });
      std::atomic<int> double_owned{0}, torn{0};
      std::atomic<bool> stop_cleaner{false};
      std::thread cleaner([&] {
        while (!stop_cleaner.load()) {
          PoolCore::CleanupAllForTesting();
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
      });
      const int kIters = 4000 / kScale;
      auto body = [&](int id) {
        std::vector<std::unique_ptr<Obj>> held;
        for (int k = 0; k < kIters; k++) {
          auto o = pool.Get();
          int expected = 0;
          if (!o->owner.compare_exchange_strong(expected, id)) double_owned++;
          if (o->payload != 0 && o->payload % 1000 != 7) torn++;
          o->payload = int64_t{id} * 1000 + 7;
          held.push_back(std::move(o));
          if (held.size() > static_cast<size_t>(k % 5) || k % 3 == 0) {
            for (auto& h : held) {
              h->owner.store(0);
              pool.Put(std::move(h));
            }
            held.clear();
          }
          if (k % 97 == 0) Gosched();
        }
        for (auto& h : held) {
          h->owner.store(0);
          pool.Put(std::move(h));
        }
      };
      std::thread t([&] { body(100); });
      RunGoroutines(8, [&](int i) { body(i + 1); });
      t.join();
      stop_cleaner = true;
      cleaner.join();
      EXPECT_EQ(double_owned.load(), 0) << "GOMAXPROCS=" << procs;
      EXPECT_EQ(torn.load(), 0);
    }
    EXPECT_EQ(g_alive.load(), 0) << "objects leaked or destroyed twice";
  }
}

}  // namespace
}  // namespace go::sync
