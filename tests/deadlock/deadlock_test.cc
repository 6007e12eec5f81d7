// Deadlock detection outside bubbles: Go's "all goroutines are asleep" for
// the classic shapes, and the bubble's own report for the same shapes inside
// synctest. Each case runs in a child process (death test) because the
// runtime ends a deadlocked process with exit status 2.
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "runtime/chan/chan.h"
#include "runtime/goroutine.h"
#include "runtime/panic.h"
#include "runtime/sync/mutex.h"
#include "runtime/sync/waitgroup.h"
#include "runtime/synctest/synctest.h"
#include "runtime/time/sleep.h"

namespace go {
namespace {

constexpr char kDeadlock[] = "fatal error: all goroutines are asleep - deadlock!";

class DeadlockDeathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    setenv("GO_DEADLOCK_GRACE_MS", "100", 1);
  }
};

TEST_F(DeadlockDeathTest, ReceiveFromNilChannel) {
  EXPECT_EXIT(
      {
        Chan<int> nil;
        nil.Recv();
      },
      ::testing::ExitedWithCode(2), std::string(kDeadlock) + "(.|\n)*chan receive \\(nil chan\\)");
}

TEST_F(DeadlockDeathTest, LockOrderInversion) {
  EXPECT_EXIT(
      {
        sync::Mutex a;
        sync::Mutex b;
        sync::WaitGroup both_hold_one;
        both_hold_one.Add(2);
        Go([&] {
          a.Lock();
          both_hold_one.Done();
          both_hold_one.Wait();
          b.Lock();  // never: the other goroutine holds b and wants a
        });
        Go([&] {
          b.Lock();
          both_hold_one.Done();
          both_hold_one.Wait();
          a.Lock();
        });
        Chan<int>().Recv();  // the main thread waits forever too
      },
      ::testing::ExitedWithCode(2), std::string(kDeadlock) + "(.|\n)*sync.Mutex.Lock");
}

TEST_F(DeadlockDeathTest, WaitGroupNeverDone) {
  EXPECT_EXIT(
      {
        sync::WaitGroup wg;
        wg.Add(2);
        Go([&] { wg.Done(); });
        wg.Wait();  // the second Done never comes
      },
      ::testing::ExitedWithCode(2), std::string(kDeadlock) + "(.|\n)*sync.WaitGroup.Wait");
}

TEST_F(DeadlockDeathTest, UnbufferedSendWithoutReceiver) {
  EXPECT_EXIT(
      {
        auto ch = MakeChan<int>();
        ch.Send(1);
      },
      ::testing::ExitedWithCode(2), std::string(kDeadlock) + "(.|\n)*chan send");
}

TEST(DeadlockTest, SleepingGoroutineIsNotADeadlock) {
  // A pending timer can still wake someone: no verdict while it is armed.
  setenv("GO_DEADLOCK_GRACE_MS", "50", 1);
  auto ch = MakeChan<int>();
  Go([ch] {
    Sleep(absl::Milliseconds(400));
    ch.Send(7);
  });
  EXPECT_EQ(ch.Recv(), 7);
}

TEST(BubbleDeadlockTest, SameShapesInsideABubble) {
  auto expect_deadlock = [](auto body, const char* reason) {
    try {
      synctest::Test(body);
      ADD_FAILURE() << "no deadlock reported for " << reason;
    } catch (const Panic& p) {
      std::string msg = p.what();
      EXPECT_NE(msg.find("deadlock"), std::string::npos) << msg;
      EXPECT_NE(msg.find(reason), std::string::npos) << msg;
      EXPECT_NE(msg.find("GO_SYNCTEST_SEED="), std::string::npos) << msg;
    }
  };
  expect_deadlock([] { Chan<int>().Recv(); }, "chan receive (nil chan)");
  expect_deadlock(
      [] {
        sync::WaitGroup wg;
        wg.Add(1);
        wg.Wait();
      },
      "sync.WaitGroup.Wait");
}

}  // namespace
}  // namespace go
