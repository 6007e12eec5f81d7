// Cancellation: Background/TODO, WithCancel, WithCancelCause, trees, Cause,
// unlinking from the parent, memory ordering.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
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

TEST(BackgroundTest, DefaultHandleIsBackgroundAndNeverDone) {
  Context c;
  EXPECT_TRUE(c == Background());
  EXPECT_FALSE(c.Done());  // the nil channel
  EXPECT_TRUE(c.Err().ok());
  EXPECT_FALSE(c.Deadline().has_value());
  static const Key<int> key("k");
  EXPECT_EQ(c.Value(key), nullptr);
  EXPECT_TRUE(Cause(c).ok());
}

TEST(BackgroundTest, TodoIsEmptyButNotBackground) {
  Context t = TODO();
  EXPECT_FALSE(t == Background());
  EXPECT_TRUE(t == TODO());
  EXPECT_FALSE(t.Done());
  EXPECT_TRUE(t.Err().ok());
  EXPECT_FALSE(t.Deadline().has_value());
}

TEST(BackgroundTest, ErrorValuesAreGos) {
  EXPECT_EQ(Canceled(), absl::CancelledError("context canceled"));
  EXPECT_EQ(DeadlineExceeded(), absl::DeadlineExceededError("context deadline exceeded"));
}

TEST(CancelTest, CancelClosesDoneOnceAndSetsErr) {
  RunEverywhere([] {
    auto [ctx, cancel] = WithCancel(Background());
    auto done = ctx.Done();
    ASSERT_TRUE(done);
    EXPECT_TRUE(done == ctx.Done()) << "Done must return the same channel every time";
    EXPECT_FALSE(IsDone(ctx));
    EXPECT_TRUE(ctx.Err().ok());
    EXPECT_TRUE(Cause(ctx).ok());
    cancel();
    EXPECT_EQ(done.Recv(), std::nullopt);  // closed
    EXPECT_EQ(ctx.Err(), Canceled());
    EXPECT_EQ(Cause(ctx), Canceled());
    cancel();  // a second call does nothing
    EXPECT_EQ(ctx.Err(), Canceled());
    EXPECT_TRUE(done == ctx.Done());
  });
}

TEST(CancelTest, DoneFirstCalledAfterCancelIsClosed) {
  auto [ctx, cancel] = WithCancel(Background());
  cancel();
  EXPECT_TRUE(IsDone(ctx));
  EXPECT_TRUE(ctx.Done() == ctx.Done());
}

TEST(CancelTest, CancelWakesEveryWaiter) {
  RunEverywhere([] {
    LeakCheck leaks;
    auto [ctx, cancel] = WithCancel(Background());
    std::atomic<int> woke{0};
    Joiner j;
    for (int i = 0; i < 50; i++) {
      j.Go([&, ctx = ctx] {
        ctx.Done().Recv();
        EXPECT_EQ(ctx.Err(), Canceled());
        woke++;
      });
    }
    cancel();
    j.Wait();
    EXPECT_EQ(woke.load(), 50);
  });
}

// Builds a tree of `fanout` children per node, `depth` levels deep, with a
// WithValue layer between some levels (cancellation must see through it).
struct Tree {
  std::vector<Context> nodes;
  std::vector<Context> leaves;
  std::vector<CancelFunc> cancels;
};

void Build(const Context& parent, int depth, int fanout, Tree* t) {
  static const Key<int> level("level");
  if (depth == 0) {
    t->leaves.push_back(parent);
    return;
  }
  for (int i = 0; i < fanout; i++) {
    auto [c, cancel] = WithCancel(parent);
    t->nodes.push_back(c);
    t->cancels.push_back(cancel);
    Context next = depth % 2 == 0 ? WithValue(c, level, depth) : c;
    Build(next, depth - 1, fanout, t);
  }
}

TEST(CancelTest, CancellingTheRootCancelsTheWholeTree) {
  RunEverywhere([] {
    auto [root, cancel_root] = WithCancel(Background());
    Tree t;
    Build(root, 4, 4, &t);
    ASSERT_EQ(t.leaves.size(), 256u);
    std::atomic<int> woke{0};
    Joiner j;
    for (const Context& leaf : t.leaves) {
      j.Go([&woke, leaf] {
        leaf.Done().Recv();
        EXPECT_EQ(leaf.Err(), Canceled());
        woke++;
      });
    }
    for (const Context& n : t.nodes) EXPECT_FALSE(IsDone(n));
    cancel_root();
    j.Wait();
    EXPECT_EQ(woke.load(), 256);
    for (const Context& n : t.nodes) {
      EXPECT_TRUE(IsDone(n));
      EXPECT_EQ(n.Err(), Canceled());
      EXPECT_EQ(Cause(n), Canceled());
    }
    for (auto& c : t.cancels) c();
  });
}

TEST(CancelTest, CancellingAnInnerNodeCancelsOnlyItsSubtree) {
  auto [root, cancel_root] = WithCancel(Background());
  auto [a, cancel_a] = WithCancel(root);
  auto [b, cancel_b] = WithCancel(root);
  auto [a1, cancel_a1] = WithCancel(a);
  static const Key<int> k("k");
  auto [a2, cancel_a2] = WithCancel(WithValue(a, k, 1));
  auto [b1, cancel_b1] = WithCancel(b);
  cancel_a();
  EXPECT_TRUE(IsDone(a));
  EXPECT_TRUE(IsDone(a1));
  EXPECT_TRUE(IsDone(a2));
  EXPECT_FALSE(IsDone(root));
  EXPECT_FALSE(IsDone(b));
  EXPECT_FALSE(IsDone(b1));
  cancel_root();
  EXPECT_TRUE(IsDone(b1));
  for (auto* f : {&cancel_a1, &cancel_a2, &cancel_b, &cancel_b1}) (*f)();
}

TEST(CancelTest, ChildOfCancelledParentIsBornCancelled) {
  auto [parent, cancel] = WithCancelCause(Background());
  cancel(absl::AbortedError("shutdown"));
  auto [child, cancel_child] = WithCancel(parent);
  EXPECT_TRUE(IsDone(child));
  EXPECT_EQ(child.Err(), Canceled());
  EXPECT_EQ(Cause(child), absl::AbortedError("shutdown"));
  EXPECT_EQ(internal::NumChildrenForTest(parent), 0u);
  cancel_child();
}

TEST(CancelTest, CancelledChildIsUnlinkedFromItsParent) {
  auto [parent, cancel] = WithCancel(Background());
  auto [c1, cancel1] = WithCancel(parent);
  static const Key<std::string> k("k");
  auto [c2, cancel2] = WithCancel(WithValue(parent, k, std::string("v")));
  auto [c3, cancel3] = WithCancel(parent);
  EXPECT_EQ(internal::NumChildrenForTest(parent), 3u);
  cancel2();  // the middle of the list
  EXPECT_EQ(internal::NumChildrenForTest(parent), 2u);
  cancel3();  // the head
  EXPECT_EQ(internal::NumChildrenForTest(parent), 1u);
  cancel1();
  EXPECT_EQ(internal::NumChildrenForTest(parent), 0u);
  EXPECT_FALSE(IsDone(parent));
  cancel();
}

TEST(CancelTest, ShortLivedChildrenLeaveTheParentEmpty) {
  auto [parent, cancel] = WithCancel(Background());
  const int64_t live = internal::LiveCancelCtxForTest();
  for (int i = 0; i < 100000 / kScale; i++) {
    auto [c, cancel_c] = WithCancel(parent);
    auto [gc, cancel_gc] = WithCancel(c);
    cancel_c();  // cancels the grandchild too
    ASSERT_TRUE(IsDone(gc));
  }
  EXPECT_EQ(internal::NumChildrenForTest(parent), 0u);
  EXPECT_EQ(internal::LiveCancelCtxForTest(), live) << "cancelled, dropped children are freed";
  cancel();
}

TEST(CancelTest, ChildrenDroppedUncancelledAreFreedWhenTheParentIsCancelled) {
  auto [parent, cancel] = WithCancel(Background());
  const int64_t live = internal::LiveCancelCtxForTest();
  { auto [c, cancel_c] = WithCancel(parent); }
  EXPECT_EQ(internal::LiveCancelCtxForTest(), live + 1)
      << "the parent keeps an uncancelled child (Go's children map)";
  EXPECT_EQ(internal::NumChildrenForTest(parent), 1u);
  cancel();
  EXPECT_EQ(internal::LiveCancelCtxForTest(), live);
}

TEST(CauseTest, CancelCauseIsRecordedAndInherited) {
  RunEverywhere([] {
    auto [ctx, cancel] = WithCancelCause(Background());
    auto [child, cancel_child] = WithCancel(ctx);
    EXPECT_TRUE(Cause(ctx).ok());
    cancel(absl::UnavailableError("backend down"));
    EXPECT_EQ(ctx.Err(), Canceled());
    EXPECT_EQ(Cause(ctx), absl::UnavailableError("backend down"));
    EXPECT_EQ(child.Err(), Canceled());
    EXPECT_EQ(Cause(child), absl::UnavailableError("backend down"));
    cancel(absl::InternalError("second"));  // ignored
    EXPECT_EQ(Cause(ctx), absl::UnavailableError("backend down"));
    cancel_child();
  });
}

TEST(CauseTest, OkCauseMeansCanceled) {
  auto [ctx, cancel] = WithCancelCause(Background());
  cancel(absl::OkStatus());
  EXPECT_EQ(Cause(ctx), Canceled());
}

TEST(CauseTest, ChildCancelledFirstKeepsItsOwnCause) {
  auto [parent, cancel_parent] = WithCancelCause(Background());
  auto [child, cancel_child] = WithCancelCause(parent);
  cancel_child(absl::NotFoundError("child"));
  cancel_parent(absl::AbortedError("parent"));
  EXPECT_EQ(Cause(child), absl::NotFoundError("child"));
  EXPECT_EQ(Cause(parent), absl::AbortedError("parent"));
}

TEST(CauseTest, CauseSeesThroughValues) {
  auto [ctx, cancel] = WithCancelCause(Background());
  static const Key<int> k("k");
  Context v = WithValue(ctx, k, 7);
  cancel(absl::DataLossError("x"));
  EXPECT_EQ(Cause(v), absl::DataLossError("x"));
  EXPECT_EQ(v.Err(), Canceled());
}

TEST(CancelTest, CancelHappensBeforeObservingDone) {
  // Plain data written before cancel() must be visible after Done closes
  // (ThreadSanitizer checks the edge).
  RunEverywhere([] {
    for (int i = 0; i < 100 / kScale + 1; i++) {
      auto [ctx, cancel] = WithCancel(Background());
      auto data = std::make_shared<int>(0);
      Joiner j;
      j.Go([ctx = ctx, data] {
        ctx.Done().Recv();
        EXPECT_EQ(*data, 42);
      });
      j.Go([ctx = ctx, data] {
        while (ctx.Err().ok()) Gosched();
        EXPECT_EQ(*data, 42);
      });
      *data = 42;
      cancel();
      j.Wait();
    }
  });
}

TEST(CancelTest, ConcurrentCancelsOfOneContextAreSafe) {
  RunEverywhere([] {
    for (int round = 0; round < 20; round++) {
      auto [root, cancel_root] = WithCancel(Background());
      std::vector<std::pair<Context, CancelFunc>> kids;
      for (int i = 0; i < 20; i++) kids.push_back(WithCancel(root));
      Joiner j;
      for (int i = 0; i < 20; i++) {
        j.Go([&, i] { kids[i].second(); });
        j.Go([&] { cancel_root(); });
      }
      j.Wait();
      for (auto& [c, f] : kids) EXPECT_TRUE(IsDone(c));
      EXPECT_EQ(internal::NumChildrenForTest(root), 0u);
    }
  });
}

TEST(CancelTest, DerivingWhileTheParentIsCancelledAlwaysEndsCancelled) {
  RunEverywhere([] {
    auto [root, cancel_root] = WithCancel(Background());
    std::vector<Context> made[4];
    std::vector<CancelFunc> cancels[4];
    Joiner j;
    for (int g = 0; g < 4; g++) {
      j.Go([&, g] {
        for (int i = 0; i < 200; i++) {
          auto [c, f] = WithCancel(root);
          made[g].push_back(c);
          cancels[g].push_back(f);
        }
      });
    }
    cancel_root();
    j.Wait();
    for (auto& v : made) {
      for (const Context& c : v) EXPECT_TRUE(WaitDone(c));
    }
    for (auto& v : cancels) {
      for (auto& f : v) f();
    }
  });
}

TEST(CancelTest, DeepChainCancelsWithoutRecursion) {
  // A chain far deeper than a goroutine stack could recurse through.
  RunEverywhere([] {
    auto [root, cancel_root] = WithCancel(Background());
    std::vector<CancelFunc> cancels;
    Context c = root;
    for (int i = 0; i < 20000 / kScale; i++) {
      auto [next, f] = WithCancel(c);
      cancels.push_back(f);
      c = next;
    }
    cancel_root();
    EXPECT_TRUE(IsDone(c));
    // Dropping the chain frees it leaf first (each node owns its parent).
    while (!cancels.empty()) cancels.pop_back();
  });
}

}  // namespace
}  // namespace go::context
