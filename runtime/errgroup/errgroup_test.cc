// errgroup: Wait, first error wins, context cancellation, SetLimit, TryGo,
// misuse, and what an escaping exception does.
#include "runtime/errgroup/errgroup.h"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/context/context_testing.h"
#include "runtime/go.h"

namespace go::errgroup {
namespace {

using context_testing::Eventually;
using context_testing::IsDone;
using context_testing::kScale;
using context_testing::LeakCheck;
using context_testing::RunEverywhere;

TEST(ErrgroupTest, ZeroGroupRunsEverythingAndWaits) {
  RunEverywhere([] {
    Group g;
    std::atomic<int> ran{0};
    for (int i = 0; i < 100; i++) {
      g.Go([&] {
        ran++;
        return absl::OkStatus();
      });
    }
    EXPECT_TRUE(g.Wait().ok());
    EXPECT_EQ(ran.load(), 100) << "Wait returns only after every task returned";
    EXPECT_TRUE(g.Wait().ok()) << "Wait may be called again";
  });
}

TEST(ErrgroupTest, WaitReturnsTheFirstErrorAmongMany) {
  RunEverywhere([] {
    auto [g, ctx] = WithContext(context::Background());
    const int n = 1000 / kScale;
    // Task 0 fails first; every other task fails only after it saw the
    // group's context cancelled, so its error always comes second.
    for (int i = 0; i < n; i++) {
      g->Go([i, ctx = ctx] {
        if (i == 0) return absl::NotFoundError("first");
        ctx.Done().Recv();
        EXPECT_EQ(context::Cause(ctx), absl::NotFoundError("first"))
            << "the error is recorded before the context is cancelled";
        return absl::InternalError(absl::StrCat("late ", i));
      });
    }
    EXPECT_EQ(g->Wait(), absl::NotFoundError("first"));
    EXPECT_EQ(ctx.Err(), context::Canceled());
    EXPECT_EQ(context::Cause(ctx), absl::NotFoundError("first"));
  });
}

TEST(ErrgroupTest, ExactlyOneErrorIsKeptWhenManyFailAtOnce) {
  RunEverywhere([] {
    Group g;
    for (int i = 0; i < 200; i++) {
      g.Go([i] { return absl::InternalError(absl::StrCat("e", i)); });
    }
    absl::Status st = g.Wait();
    EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
    EXPECT_EQ(g.Wait(), st) << "the same first error every time";
  });
}

TEST(ErrgroupTest, WaitCancelsTheContextEvenWithoutErrors) {
  LeakCheck leaks;
  auto [parent, cancel_parent] = context::WithCancel(context::Background());
  auto [g, ctx] = WithContext(parent);
  g->Go([ctx = ctx] {
    EXPECT_TRUE(ctx.Err().ok()) << "not cancelled while tasks succeed";
    return absl::OkStatus();
  });
  EXPECT_FALSE(IsDone(ctx));
  EXPECT_TRUE(g->Wait().ok());
  EXPECT_TRUE(IsDone(ctx));
  EXPECT_EQ(ctx.Err(), context::Canceled());
  EXPECT_EQ(context::Cause(ctx), context::Canceled());
  EXPECT_EQ(context::internal::NumChildrenForTest(parent), 0u) << "released from the parent";
  EXPECT_FALSE(IsDone(parent));
  cancel_parent();
}

TEST(ErrgroupTest, ParentCancellationReachesTheTasks) {
  LeakCheck leaks;
  auto [parent, cancel_parent] = context::WithCancel(context::Background());
  auto [g, ctx] = WithContext(parent);
  for (int i = 0; i < 10; i++) {
    g->Go([ctx = ctx] {
      ctx.Done().Recv();
      return ctx.Err();
    });
  }
  cancel_parent();
  EXPECT_EQ(g->Wait(), context::Canceled());
}

TEST(ErrgroupTest, LimitIsNeverExceeded) {
  RunEverywhere([] {
    for (int limit : {1, 3, 8}) {
      Group g;
      g.SetLimit(limit);
      std::atomic<int> running{0}, peak{0}, done{0};
      for (int i = 0; i < 200 / kScale + 20; i++) {
        g.Go([&] {
          int now = ++running;
          int p = peak.load();
          while (now > p && !peak.compare_exchange_weak(p, now)) {
          }
          Gosched();  // give the others a chance to overlap
          running--;
          done++;
          return absl::OkStatus();
        });
      }
      EXPECT_TRUE(g.Wait().ok());
      EXPECT_LE(peak.load(), limit);
      EXPECT_GE(peak.load(), 1);
      EXPECT_EQ(done.load(), 200 / kScale + 20);
    }
  });
}

TEST(ErrgroupTest, GoBlocksWhileTheLimitIsReached) {
  LeakCheck leaks;
  Group g;
  g.SetLimit(2);
  auto release = MakeChan<std::monostate>();
  for (int i = 0; i < 2; i++) {
    g.Go([release] {
      release.Recv();
      return absl::OkStatus();
    });
  }
  std::atomic<bool> third_started{false};
  context_testing::Joiner j;
  j.Go([&] {
    g.Go([&] {  // blocks until a slot frees up
      third_started = true;
      return absl::OkStatus();
    });
  });
  Sleep(absl::Milliseconds(20));
  EXPECT_FALSE(third_started.load());
  release.Close();
  j.Wait();
  EXPECT_TRUE(g.Wait().ok());
  EXPECT_TRUE(third_started.load());
}

TEST(ErrgroupTest, TryGoFailsUnderAFullLimit) {
  RunEverywhere([] {
    Group g;
    g.SetLimit(1);
    auto release = MakeChan<std::monostate>();
    EXPECT_TRUE(g.TryGo([release] {
      release.Recv();
      return absl::OkStatus();
    }));
    std::atomic<bool> ran{false};
    EXPECT_FALSE(g.TryGo([&] {
      ran = true;
      return absl::OkStatus();
    })) << "the only slot is taken";
    release.Close();
    EXPECT_TRUE(g.Wait().ok());
    EXPECT_FALSE(ran.load());
    EXPECT_TRUE(g.TryGo([] { return absl::AbortedError("now it fits"); }));
    EXPECT_EQ(g.Wait(), absl::AbortedError("now it fits"));
  });
}

TEST(ErrgroupTest, TryGoWithoutLimitAlwaysStarts) {
  Group g;
  std::atomic<int> ran{0};
  for (int i = 0; i < 50; i++) {
    EXPECT_TRUE(g.TryGo([&] {
      ran++;
      return absl::OkStatus();
    }));
  }
  EXPECT_TRUE(g.Wait().ok());
  EXPECT_EQ(ran.load(), 50);
}

TEST(ErrgroupTest, ZeroLimitAdmitsNothing) {
  Group g;
  g.SetLimit(0);
  EXPECT_FALSE(g.TryGo([] { return absl::OkStatus(); }));
  g.SetLimit(-1);  // negative: no limit
  EXPECT_TRUE(g.TryGo([] { return absl::OkStatus(); }));
  EXPECT_TRUE(g.Wait().ok());
}

TEST(ErrgroupTest, SetLimitWhileActivePanicsWithGosMessage) {
  LeakCheck leaks;
  for (int first_limit : {-1, 4}) {
    Group g;
    g.SetLimit(first_limit);
    auto release = MakeChan<std::monostate>();
    g.Go([release] {
      release.Recv();
      return absl::OkStatus();
    });
    try {
      g.SetLimit(2);
      ADD_FAILURE() << "SetLimit with an active goroutine must panic";
    } catch (const Panic& p) {
      EXPECT_STREQ(p.what(),
                   "errgroup: modify limit while 1 goroutines in the group are still active");
    }
    g.SetLimit(-1);  // removing the limit never panics
    release.Close();
    EXPECT_TRUE(g.Wait().ok());
    g.SetLimit(3);  // fine again once nothing is active
  }
}

TEST(ErrgroupTest, DestroyingAGroupWaitsForItsTasks) {
  LeakCheck leaks;
  std::atomic<int> finished{0};
  {
    Group g;
    for (int i = 0; i < 10; i++) {
      g.Go([&] {
        Sleep(absl::Milliseconds(2));
        finished++;
        return absl::OkStatus();
      });
    }
  }  // no Wait: the destructor waits
  EXPECT_EQ(finished.load(), 10);
}

TEST(ErrgroupTest, TasksMayStartMoreTasks) {
  RunEverywhere([] {
    Group g;
    std::atomic<int> ran{0};
    std::function<absl::Status(int)> spawn = [&](int depth) {
      ran++;
      if (depth > 0) {
        for (int i = 0; i < 3; i++) g.Go([&, depth] { return spawn(depth - 1); });
      }
      return absl::OkStatus();
    };
    g.Go([&] { return spawn(3); });
    EXPECT_TRUE(g.Wait().ok());
    EXPECT_EQ(ran.load(), 1 + 3 + 9 + 27);
  });
}

TEST(ErrgroupDeathTest, AnExceptionEscapingATaskIsAPanic) {
  // Not turned into an error for Wait (see errgroup.h): the process dies
  // like any goroutine panic, with the goroutine dump.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        Group g;
        g.Go([]() -> absl::Status { throw std::runtime_error("task blew up"); });
        (void)g.Wait();
      },
      ::testing::ExitedWithCode(2), "panic: task blew up(.|\n)*goroutine [0-9]+ \\[running\\]");
}

}  // namespace
}  // namespace go::errgroup
