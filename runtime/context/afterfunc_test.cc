// AfterFunc: f runs in its own goroutine once the context is done; stop()
// reports whether it prevented that; races between the two.
#include <atomic>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "runtime/context/context.h"
#include "runtime/context/context_testing.h"
#include "runtime/go.h"

namespace go::context {
namespace {

using context_testing::Eventually;
using context_testing::Joiner;
using context_testing::kScale;
using context_testing::LeakCheck;
using context_testing::RunEverywhere;

TEST(AfterFuncTest, RunsInItsOwnGoroutineAfterCancel) {
  RunEverywhere([] {
    auto [ctx, cancel] = WithCancel(Background());
    auto ran = MakeChan<int64_t>(1);
    const int64_t me = sched::CurrentG()->id.load();
    auto stop = AfterFunc(ctx, [ran, ctx = ctx] {
      EXPECT_EQ(ctx.Err(), Canceled()) << "f runs after the context is done";
      ran.Send(sched::CurrentG()->id.load());
    });
    EXPECT_EQ(ran.Len(), 0u);
    cancel();
    std::optional<int64_t> who = ran.Recv();
    ASSERT_TRUE(who.has_value());
    EXPECT_NE(*who, me);
    EXPECT_FALSE(stop()) << "f has already been started";
    EXPECT_FALSE(stop());
  });
}

TEST(AfterFuncTest, AlreadyDoneContextStartsFAtOnce) {
  LeakCheck leaks;
  auto [ctx, cancel] = WithCancel(Background());
  cancel();
  auto ran = MakeChan<bool>(1);
  auto stop = AfterFunc(ctx, [ran] { ran.Send(true); });
  EXPECT_EQ(ran.Recv(), true);
  EXPECT_FALSE(stop());
}

TEST(AfterFuncTest, StopBeforeCancelPreventsF) {
  LeakCheck leaks;
  auto [ctx, cancel] = WithCancel(Background());
  std::atomic<bool> ran{false};
  auto stop = AfterFunc(ctx, [&] { ran = true; });
  EXPECT_EQ(internal::NumChildrenForTest(ctx), 1u);
  EXPECT_TRUE(stop());
  EXPECT_FALSE(stop()) << "already stopped";
  EXPECT_EQ(internal::NumChildrenForTest(ctx), 0u) << "stop unlinks f from the context";
  cancel();
  Sleep(absl::Milliseconds(5));
  EXPECT_FALSE(ran.load());
}

TEST(AfterFuncTest, NeverRunsOnAContextThatCannotEnd) {
  std::atomic<bool> ran{false};
  auto stop = AfterFunc(Background(), [&] { ran = true; });
  auto stop2 = AfterFunc(WithoutCancel(Background()), [&] { ran = true; });
  EXPECT_TRUE(stop());
  EXPECT_TRUE(stop2());
  EXPECT_FALSE(ran.load());
}

TEST(AfterFuncTest, SeveralFuncsRunIndependently) {
  RunEverywhere([] {
    auto [ctx, cancel] = WithCancel(Background());
    auto ran = MakeChan<int>(10);
    std::vector<std::function<bool()>> stops;
    for (int i = 0; i < 10; i++) stops.push_back(AfterFunc(ctx, [ran, i] { ran.Send(i); }));
    for (int i = 0; i < 10; i += 2) EXPECT_TRUE(stops[i]());
    cancel();
    int sum = 0;
    for (int i = 0; i < 5; i++) sum += *ran.Recv();
    EXPECT_EQ(sum, 1 + 3 + 5 + 7 + 9);
    for (int i = 1; i < 10; i += 2) EXPECT_FALSE(stops[i]());
  });
}

TEST(AfterFuncTest, FiresOnParentCancelAndOnDeadline) {
  LeakCheck leaks;
  auto [root, cancel_root] = WithCancel(Background());
  static const Key<int> k("k");
  auto [child, cancel_child] = WithCancel(WithValue(root, k, 1));
  auto ran = MakeChan<int>(2);
  auto stop1 = AfterFunc(child, [ran] { ran.Send(1); });
  auto [dl, cancel_dl] = WithTimeout(Background(), absl::Milliseconds(1));
  auto stop2 = AfterFunc(dl, [ran] { ran.Send(2); });
  cancel_root();
  int a = *ran.Recv(), b = *ran.Recv();
  EXPECT_EQ(a + b, 3);
  cancel_child();
  cancel_dl();
}

TEST(AfterFuncTest, StopRacingCancelDecidesExactlyOnce) {
  // Whatever the interleaving: f runs iff stop() returned false.
  RunEverywhere([] {
    const int n = 400 / kScale;
    std::atomic<int> ran{0}, stopped{0};
    for (int i = 0; i < n; i++) {
      auto [ctx, cancel] = WithCancel(Background());
      auto stop = AfterFunc(ctx, [&] { ran++; });
      Joiner j;
      j.Go([cancel = cancel] { cancel(); });
      j.Go([&, stop] {
        if (stop()) stopped++;
      });
      j.Wait();
    }
    EXPECT_TRUE(Eventually([&] { return ran.load() + stopped.load() == n; }))
        << "ran=" << ran.load() << " stopped=" << stopped.load();
  });
}

TEST(AfterFuncTest, ConcurrentStopsAgree) {
  RunEverywhere([] {
    for (int i = 0; i < 100 / kScale + 1; i++) {
      auto [ctx, cancel] = WithCancel(Background());
      auto stop = AfterFunc(ctx, [] { ADD_FAILURE() << "f must not run after a stop"; });
      std::atomic<int> wins{0};
      Joiner j;
      for (int k = 0; k < 4; k++) {
        j.Go([&, stop] {
          if (stop()) wins++;
        });
      }
      j.Wait();
      EXPECT_EQ(wins.load(), 1);
      cancel();
    }
  });
}

TEST(AfterFuncTest, FSeesWritesMadeBeforeCancel) {
  RunEverywhere([] {
    auto [ctx, cancel] = WithCancel(Background());
    int data = 0;
    auto seen = MakeChan<int>(1);
    auto stop = AfterFunc(ctx, [&data, seen] { seen.Send(data); });
    data = 99;
    cancel();
    EXPECT_EQ(seen.Recv(), 99);
  });
}

}  // namespace
}  // namespace go::context
