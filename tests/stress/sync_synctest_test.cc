// Package sync inside synctest bubbles: seeded schedules (the blocking slow
// paths are preemption points), virtual time for starvation mode, and
// deadlock detection for goroutines parked on sync primitives.
#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/go.h"

namespace go::sync {
namespace {

constexpr int kSeeds = 60;

// Mutual exclusion holds under every explored schedule.
TEST(SyncSynctestTest, MutexCounterIsExactUnderEverySeed) {
  auto failing = synctest::FindFailingSeed(
      [] {
        Mutex mu;
        int counter = 0;  // plain, guarded by mu
        bool overlap = false;
        int inside = 0;
        WaitGroup wg;
        for (int g = 0; g < 4; g++) {
          wg.Go([&] {
            for (int i = 0; i < 25; i++) {
              mu.Lock();
              if (inside++ != 0) overlap = true;
              counter++;
              if (i % 3 == 0) Gosched();  // a switch while holding the lock
              inside--;
              mu.Unlock();
            }
          });
        }
        wg.Wait();
        return counter == 100 && !overlap && mu.Waiters() == 0;
      },
      kSeeds);
  EXPECT_EQ(failing, std::nullopt) << "failing seed " << failing.value_or(0);
}

// RWMutex, Cond and Once together: readers never see a half-written pair,
// and the condition-driven hand-over completes, under every seed.
TEST(SyncSynctestTest, RWMutexCondAndOnceUnderEverySeed) {
  auto failing = synctest::FindFailingSeed(
      [] {
        RWMutex rw;
        int a = 0, b = 0;
        Mutex mu;
        Cond cond(mu);
        int ready = 0;  // guarded by mu
        Once once;
        int once_calls = 0;
        bool ok = true;
        WaitGroup wg;
        for (int g = 0; g < 3; g++) {
          wg.Go([&, g] {
            once.Do([&] { once_calls++; });
            for (int i = 0; i < 10; i++) {
              if ((i + g) % 4 == 0) {
                rw.Lock();
                a++;
                Gosched();
                b++;
                rw.Unlock();
              } else {
                rw.RLock();
                if (a != b) ok = false;
                rw.RUnlock();
              }
            }
            mu.Lock();
            ready++;
            mu.Unlock();
            cond.Broadcast();
          });
        }
        wg.Go([&] {
          mu.Lock();
          while (ready < 3) cond.Wait();
          mu.Unlock();
        });
        wg.Wait();
        return ok && a == b && once_calls == 1;
      },
      kSeeds);
  EXPECT_EQ(failing, std::nullopt) << "failing seed " << failing.value_or(0);
}

// Starvation mode with virtual time: the holder keeps the mutex for 300 us
// of bubble time per turn and re-locks at once, so a waiter that loses the
// races passes 1 ms and switches the mutex to starvation mode. Whether it
// loses depends on the seed; that every waiter is served and the mode ends
// must not. Some seeds must show the mode.
TEST(SyncSynctestTest, StarvationModeWithVirtualTime) {
  int starved_seeds = 0;
  for (uint64_t seed = 1; seed <= 40; seed++) {
    bool saw_starving = false;
    bool served = false;
    synctest::Test(synctest::Options{.seed = seed}, [&] {
      Mutex mu;
      bool stop = false;  // guarded by mu
      WaitGroup wg;
      wg.Go([&] {
        for (;;) {
          mu.Lock();
          if (stop) {
            mu.Unlock();
            return;
          }
          Sleep(absl::Microseconds(300));  // holds the mutex across virtual time
          if (mu.Starving()) saw_starving = true;
          mu.Unlock();
        }
      });
      wg.Go([&] {
        Sleep(absl::Microseconds(100));  // arrive while the holder holds it
        mu.Lock();
        served = true;
        stop = true;
        mu.Unlock();
      });
      wg.Wait();
      EXPECT_FALSE(mu.Starving()) << "seed " << seed;
      EXPECT_EQ(mu.Waiters(), 0) << "seed " << seed;
    });
    EXPECT_TRUE(served) << "seed " << seed;
    if (saw_starving) starved_seeds++;
  }
  std::printf("starvation mode seen under %d of 40 seeds\n", starved_seeds);
  EXPECT_GT(starved_seeds, 0);
}

// Goroutines parked on sync primitives are durably blocked: a lock-order
// inversion is reported as a bubble deadlock rather than hanging.
TEST(SyncSynctestTest, LockOrderInversionIsReportedAsDeadlock) {
  // A deadlocked bubble is leaked with its goroutines parked (synctest.h):
  // what they use must outlive the test, hence statics.
  static Mutex a, b;
  static WaitGroup both_hold, never;
  try {
    synctest::Test(synctest::Options{.seed = 7}, [] {
      both_hold.Add(2);
      never.Add(1);
      Go([] {
        a.Lock();
        both_hold.Done();
        both_hold.Wait();
        b.Lock();  // never: the other goroutine holds b and waits for a
      });
      Go([] {
        b.Lock();
        both_hold.Done();
        both_hold.Wait();
        a.Lock();
      });
      never.Wait();  // the bubble's main goroutine blocks too
    });
    FAIL() << "no deadlock reported";
  } catch (const Panic& p) {
    const std::string what = p.what();
    EXPECT_NE(what.find("deadlock: all goroutines in bubble are blocked"), std::string::npos)
        << what;
    EXPECT_NE(what.find("sync.Mutex.Lock"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace go::sync
