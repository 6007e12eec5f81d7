#include "runtime/debug/debug.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/sched/sched.h"
#include "runtime/testing/leakcheck.h"

namespace go {
namespace {

// Parks the calling goroutine (reason kChanReceive) until Release().
struct Gate {
  std::atomic<sched::G*> g{nullptr};
  void Block() {
    sched::Park(
        [](sched::G* self, void* arg) {
          static_cast<Gate*>(arg)->g.store(self);
          return true;
        },
        this, sched::WaitReason::kChanReceive);
  }
  void WaitBlocked() {
    while (!g.load()) std::this_thread::yield();
  }
  void Release() {
    WaitBlocked();
    sched::Ready(g.exchange(nullptr));
  }
};

TEST(DebugTest, DumpShowsWaitReasonAndSites) {
  Gate gate;
  Go([&] { gate.Block(); });
  gate.WaitBlocked();
  std::string dump = debug::Goroutines();
  EXPECT_NE(dump.find("[chan receive]"), std::string::npos) << dump;
  EXPECT_NE(dump.find("blocked at"), std::string::npos) << dump;
  EXPECT_NE(dump.find("debug_test.cc"), std::string::npos) << dump;
  EXPECT_NE(dump.find("created by goroutine 0 at"), std::string::npos) << dump;
  bool found = false;
  for (const auto& g : debug::Snapshot()) {
    if (g.state == "chan receive" && g.created_at.find("debug_test.cc") != std::string::npos) found = true;
  }
  EXPECT_TRUE(found);
  gate.Release();
}

TEST(LeakCheckTest, CatchesLeakAndPassesCleanTest) {
  auto before = testing::LeakCheckListener::LiveGoroutineIds();
  Gate gate;
  Go([&] { gate.Block(); });
  gate.WaitBlocked();
  std::string leaked = testing::LeakCheckListener::LeakedSince(before, absl::Milliseconds(50));
  EXPECT_NE(leaked.find("[chan receive]"), std::string::npos) << leaked;
  EXPECT_NE(leaked.find("debug_test.cc"), std::string::npos) << leaked;
  gate.Release();
  EXPECT_EQ(testing::LeakCheckListener::LeakedSince(before, absl::Seconds(10)), "");
}

void BlockMainThreadForever() {
  sched::Park([](sched::G*, void*) { return true; }, nullptr, sched::WaitReason::kChanReceiveNilChan);
}

TEST(DeadlockDeathTest, EveryoneAsleepIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("GO_DEADLOCK_GRACE_MS", "100", 1);
        Go([] { BlockMainThreadForever(); });
        BlockMainThreadForever();
      },
      ::testing::ExitedWithCode(2), "fatal error: all goroutines are asleep - deadlock!");
}

TEST(DeadlockDeathTest, DetectorCanBeTurnedOff) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("GO_DEADLOCK_GRACE_MS", "50", 1);
        debug::SetDeadlockDetection(false);
        Gate gate;
        Go([&] { gate.Block(); });
        gate.WaitBlocked();
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        _exit(7);
      },
      ::testing::ExitedWithCode(7), "");
}

TEST(DeadlockDeathTest, BusyThreadIsNotADeadlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("GO_DEADLOCK_GRACE_MS", "50", 1);
        Gate gate;
        Go([&] { gate.Block(); });
        gate.WaitBlocked();
        // This thread is busy outside the runtime: it could still wake the goroutine.
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        _exit(7);
      },
      ::testing::ExitedWithCode(7), "");
}

}  // namespace
}  // namespace go
