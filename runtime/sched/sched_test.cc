#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/time/sleep.h"
#include "runtime/sched/sched_internal.h"

namespace go {
namespace {

// Parks the calling goroutine or thread until Ready'd via the slot.
struct Waiter {
  std::atomic<sched::G*> g{nullptr};
  void Wait() {
    sched::Park(
        [](sched::G* self, void* arg) {
          static_cast<Waiter*>(arg)->g.store(self, std::memory_order_release);
          return true;
        },
        this, sched::WaitReason::kSemacquire);
  }
  void Wake() {
    sched::G* x;
    while ((x = g.exchange(nullptr, std::memory_order_acq_rel)) == nullptr) std::this_thread::yield();
    sched::Ready(x);
  }
};

// Waits (on a plain thread) until `n` goroutines have finished.
void WaitCount(std::atomic<int>& c, int n) {
  while (c.load() < n) std::this_thread::sleep_for(std::chrono::microseconds(50));
}

TEST(SchedTest, RunsGoroutine) {
  std::atomic<int> done{0};
  Go([&] { done++; });
  WaitCount(done, 1);
  EXPECT_EQ(done.load(), 1);
}

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kScale = 10;
#else
constexpr int kScale = 1;
#endif

TEST(SchedTest, SpawnJoinMany) {
  constexpr int kN = 200000 / kScale;
  std::atomic<int> done{0};
  Go([&] {
    for (int i = 0; i < kN; i++) Go([&] { done.fetch_add(1); });
  });
  WaitCount(done, kN);
  EXPECT_EQ(done.load(), kN);
}

TEST(SchedTest, ParkAndReadyFromThread) {
  Waiter w;
  std::atomic<int> stage{0};
  Go([&] {
    stage = 1;
    w.Wait();
    stage = 2;
  });
  w.Wake();
  while (stage.load() != 2) std::this_thread::yield();
}

TEST(SchedTest, ThreadParksUntilGoroutineReadies) {
  Waiter w;
  Go([&] { w.Wake(); });
  w.Wait();  // a plain thread blocks on its futex
  SUCCEED();
}

TEST(SchedTest, YieldingGoroutinesAtSeveralProcs) {
  for (int procs : {1, 2, 4, 8}) {
    int old = GOMAXPROCS(procs);
    constexpr int kG = 2000, kYields = 20;
    std::atomic<int> done{0};
    for (int i = 0; i < kG; i++) {
      Go([&] {
        for (int j = 0; j < kYields; j++) Gosched();
        done++;
      });
    }
    WaitCount(done, kG);
    GOMAXPROCS(old);
  }
}

TEST(SchedTest, SleepWakes) {
  std::atomic<int> done{0};
  for (int i = 0; i < 100; i++) {
    Go([&, i] {
      Sleep(absl::Milliseconds(i % 10 + 1));
      done++;
    });
  }
  WaitCount(done, 100);
}

TEST(SchedTest, NumGoroutineCountsLive) {
  int before = NumGoroutine();
  Waiter w[3];
  std::atomic<int> done{0};
  for (auto& x : w) Go([&] { x.Wait(); done++; });
  while (NumGoroutine() < before + 3) std::this_thread::yield();
  for (auto& x : w) x.Wake();
  WaitCount(done, 3);
  // Exit bookkeeping happens just after the body returns.
  while (NumGoroutine() != before) std::this_thread::yield();
}

TEST(SchedTest, GomaxprocsQuery) {
  int n = GOMAXPROCS(0);
  EXPECT_GE(n, 1);
  EXPECT_EQ(GOMAXPROCS(3), n);
  EXPECT_EQ(GOMAXPROCS(n), 3);
}

}  // namespace
}  // namespace go
