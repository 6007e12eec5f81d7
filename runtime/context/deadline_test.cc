// WithDeadline / WithTimeout (+ Cause variants): firing, propagation, the
// "never later than the parent" rule, timers stopped on early cancel, and
// virtual time inside synctest bubbles.
#include <atomic>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/context/context.h"
#include "runtime/context/context_testing.h"
#include "runtime/go.h"

namespace go::context {
namespace {

using context_testing::IsDone;
using context_testing::Joiner;
using context_testing::kScale;
using context_testing::LeakCheck;
using context_testing::RunEverywhere;
using context_testing::WaitDone;

TEST(DeadlineTest, TimeoutFiresWithDeadlineExceeded) {
  RunEverywhere([] {
    auto [ctx, cancel] = WithTimeout(Background(), absl::Milliseconds(5));
    ASSERT_TRUE(ctx.Deadline().has_value());
    ctx.Done().Recv();  // closes by itself
    EXPECT_EQ(ctx.Err(), DeadlineExceeded());
    EXPECT_EQ(Cause(ctx), DeadlineExceeded());
    EXPECT_GE(Now(), *ctx.Deadline());
    cancel();  // after the fact: nothing changes
    EXPECT_EQ(ctx.Err(), DeadlineExceeded());
  });
}

TEST(DeadlineTest, DeadlineCancelsDescendants) {
  RunEverywhere([] {
    auto [ctx, cancel] = WithTimeout(Background(), absl::Milliseconds(2));
    auto [child, cancel_child] = WithCancel(ctx);
    auto [grandchild, cancel_gc] = WithTimeout(child, absl::Hours(1));
    grandchild.Done().Recv();
    EXPECT_EQ(grandchild.Err(), DeadlineExceeded()) << "children inherit the parent's error";
    EXPECT_EQ(child.Err(), DeadlineExceeded());
    EXPECT_TRUE(*grandchild.Deadline() == *ctx.Deadline());
    cancel_gc();
    cancel_child();
    cancel();
  });
}

TEST(DeadlineTest, PastDeadlineIsBornCancelled) {
  LeakCheck leaks;
  auto [parent, cancel_parent] = WithCancel(Background());
  auto [ctx, cancel] = WithDeadline(parent, Now() - absl::Seconds(1));
  EXPECT_TRUE(IsDone(ctx));
  EXPECT_EQ(ctx.Err(), DeadlineExceeded());
  EXPECT_EQ(internal::NumChildrenForTest(parent), 0u) << "unlinked at once";
  auto [zero, cancel_zero] = WithTimeout(Background(), absl::ZeroDuration());
  EXPECT_EQ(zero.Err(), DeadlineExceeded());
  auto [neg, cancel_neg] = WithTimeoutCause(Background(), -absl::Seconds(3),
                                            absl::ResourceExhaustedError("budget"));
  EXPECT_EQ(neg.Err(), DeadlineExceeded());
  EXPECT_EQ(Cause(neg), absl::ResourceExhaustedError("budget"));
  cancel();
  cancel_zero();
  cancel_neg();
  EXPECT_EQ(ctx.Err(), DeadlineExceeded()) << "the first reason stays";
  cancel_parent();
}

TEST(DeadlineTest, ChildDeadlineIsNeverLaterThanTheParents) {
  const absl::Time now = Now();
  auto [parent, cancel_parent] = WithDeadline(Background(), now + absl::Hours(1));
  auto [later, cancel_later] = WithDeadline(parent, now + absl::Hours(2));
  auto [sooner, cancel_sooner] = WithDeadline(parent, now + absl::Minutes(30));
  auto [timeout, cancel_timeout] = WithTimeout(parent, absl::Hours(5));
  EXPECT_EQ(*later.Deadline(), now + absl::Hours(1));
  EXPECT_EQ(*sooner.Deadline(), now + absl::Minutes(30));
  EXPECT_EQ(*timeout.Deadline(), now + absl::Hours(1));
  // Through a value context and a plain cancel context too.
  static const Key<int> k("k");
  auto [c, cancel_c] = WithCancel(WithValue(parent, k, 1));
  EXPECT_EQ(*c.Deadline(), now + absl::Hours(1));
  auto [via, cancel_via] = WithDeadline(c, now + absl::Hours(3));
  EXPECT_EQ(*via.Deadline(), now + absl::Hours(1));
  for (auto* f : {&cancel_via, &cancel_c, &cancel_timeout, &cancel_sooner, &cancel_later,
                  &cancel_parent}) {
    (*f)();
  }
}

TEST(DeadlineTest, EarlyCancelStopsTheTimer) {
  LeakCheck leaks;  // also checks that no deadline timer stays armed
  const int64_t before = internal::ArmedTimersForTest();
  auto [ctx, cancel] = WithTimeout(Background(), absl::Hours(1));
  EXPECT_EQ(internal::ArmedTimersForTest(), before + 1);
  cancel();
  EXPECT_EQ(internal::ArmedTimersForTest(), before);
  EXPECT_EQ(ctx.Err(), Canceled());
  EXPECT_EQ(Cause(ctx), Canceled());
}

TEST(DeadlineTest, ParentCancelStopsChildTimers) {
  LeakCheck leaks;
  const int64_t before = internal::ArmedTimersForTest();
  auto [parent, cancel] = WithCancel(Background());
  std::vector<CancelFunc> cancels;
  for (int i = 0; i < 100; i++) {
    auto [c, f] = WithTimeout(parent, absl::Hours(1) + absl::Seconds(i));
    cancels.push_back(f);
  }
  EXPECT_EQ(internal::ArmedTimersForTest(), before + 100);
  cancel();
  EXPECT_EQ(internal::ArmedTimersForTest(), before);
  for (auto& f : cancels) f();
}

TEST(DeadlineTest, DeadlineCauseIsReportedOnlyWhenTheDeadlinePasses) {
  auto [fired, cancel_fired] =
      WithTimeoutCause(Background(), absl::Milliseconds(1), absl::UnavailableError("slow db"));
  ASSERT_TRUE(WaitDone(fired));
  EXPECT_EQ(fired.Err(), DeadlineExceeded());
  EXPECT_EQ(Cause(fired), absl::UnavailableError("slow db"));
  cancel_fired();

  auto [early, cancel_early] =
      WithTimeoutCause(Background(), absl::Hours(1), absl::UnavailableError("slow db"));
  cancel_early();
  EXPECT_EQ(early.Err(), Canceled());
  EXPECT_EQ(Cause(early), Canceled()) << "the CancelFunc does not set the cause";
}

TEST(DeadlineTest, ShortLivedTimeoutsLeaveNoTimersOrChildren) {
  LeakCheck leaks;
  auto [parent, cancel] = WithCancel(Background());
  for (int i = 0; i < 20000 / kScale; i++) {
    auto [c, f] = WithTimeout(parent, absl::Seconds(30));
    f();
  }
  EXPECT_EQ(internal::NumChildrenForTest(parent), 0u);
  cancel();
}

TEST(DeadlineTest, CancelRacingTheTimerIsSafe) {
  RunEverywhere([] {
    for (int i = 0; i < 200 / kScale; i++) {
      auto [ctx, cancel] = WithTimeout(Background(), absl::Microseconds(i % 50));
      Joiner j;
      j.Go([cancel = cancel] { cancel(); });
      ctx.Done().Recv();
      j.Wait();
      absl::Status err = ctx.Err();
      EXPECT_TRUE(err == Canceled() || err == DeadlineExceeded()) << err;
    }
  });
}

TEST(DeadlineTest, VirtualTimeInABubble) {
  synctest::Test([] {
    const absl::Time start = Now();
    auto [ctx, cancel] = WithTimeout(Background(), absl::Hours(1));
    EXPECT_EQ(*ctx.Deadline(), start + absl::Hours(1));
    Sleep(absl::Minutes(59));
    EXPECT_TRUE(ctx.Err().ok());
    Sleep(absl::Minutes(2));
    EXPECT_EQ(ctx.Err(), DeadlineExceeded());
    cancel();
  });
}

TEST(DeadlineTest, WaitingOnDoneInABubbleAdvancesTheClock) {
  synctest::Test([] {
    const absl::Time start = Now();
    auto [ctx, cancel] = WithTimeout(Background(), absl::Hours(24));
    std::atomic<bool> ran{false};
    auto stop = AfterFunc(ctx, [&] { ran = true; });  // joins the bubble from the timer
    ctx.Done().Recv();
    EXPECT_EQ(Now(), start + absl::Hours(24));
    EXPECT_EQ(ctx.Err(), DeadlineExceeded());
    synctest::Wait();  // lets the AfterFunc goroutine run
    EXPECT_TRUE(ran.load());
    EXPECT_FALSE(stop());
    cancel();
  });
}

}  // namespace
}  // namespace go::context
