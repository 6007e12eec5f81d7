// Go-semantics conformance: package context, golang.org/x/sync/errgroup and testing/synctest,
// through runtime/go.h only (the binding API in shared/API.md). Each case checks one behaviour
// Go documents. Anything time-related runs in a synctest bubble: its clock is virtual (it starts
// at 2000-01-01 00:00:00 UTC and moves only when every bubble goroutine is durably blocked), so
// deadlines are exact and cost no real time; synctest::Wait() tells when the others are blocked.
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/go.h"
#include "tests/conformance/conformance.h"

namespace {

namespace ctxpkg = go::context;

const absl::Status kCanceled = absl::CancelledError("context canceled");
const absl::Status kDeadlineExceeded = absl::DeadlineExceededError("context deadline exceeded");

using conformance::kEpoch;

// Done channel state, without blocking: closed (a receive proceeds at once) or not.
bool IsClosed(const go::RecvChan<std::monostate>& done) {
  return conformance::ReceivesAtOnce(done);
}

// Keys live as long as the program: a context remembers its key's address.
const ctxpkg::Key<int> kUserID("user");
const ctxpkg::Key<int> kOtherUserID("user");  // same name, different key
const ctxpkg::Key<std::string> kRequest("request");

// ---------------------------------------------------------------------------------------------
// context: Background, TODO, WithCancel, WithCancelCause, Cause

// Go: Background and TODO are never canceled, have no values and no deadline; Done returns nil.
TEST(Context, BackgroundAndTodoAreNeverDone) {
  for (const ctxpkg::Context& ctx : {ctxpkg::Background(), ctxpkg::TODO(), ctxpkg::Context()}) {
    EXPECT_FALSE(static_cast<bool>(ctx.Done()));  // the nil channel
    EXPECT_EQ(go::Select(go::OnRecv(ctx.Done()), go::OnDefault()), 1);
    EXPECT_TRUE(ctx.Err().ok());
    EXPECT_EQ(ctx.Deadline(), std::nullopt);
    EXPECT_EQ(ctx.Value(kUserID), nullptr);
    EXPECT_TRUE(ctxpkg::Cause(ctx).ok());
  }
}

// Go: the cancel function closes Done; Err then returns Canceled ("context canceled"); later
// calls of cancel do nothing; successive calls of Done return the same channel.
TEST(Context, CancelClosesDoneAndSetsErr) {
  auto [ctx, cancel] = ctxpkg::WithCancel(ctxpkg::Background());
  ASSERT_TRUE(static_cast<bool>(ctx.Done()));
  EXPECT_FALSE(IsClosed(ctx.Done()));
  EXPECT_TRUE(ctx.Err().ok());
  EXPECT_EQ(ctx.Deadline(), std::nullopt);
  cancel();
  EXPECT_TRUE(IsClosed(ctx.Done()));
  EXPECT_EQ(ctx.Done().Recv(), std::nullopt);  // closed, not a value
  EXPECT_EQ(ctx.Err(), kCanceled);
  EXPECT_EQ(ctx.Err().message(), "context canceled");
  cancel();  // idempotent
  EXPECT_EQ(ctx.Err(), kCanceled);
  EXPECT_TRUE(ctx.Done() == ctx.Done());
}

// Go: cancel wakes every goroutine blocked on <-ctx.Done(), and what the canceller did first is
// visible to them.
TEST(Context, CancelWakesGoroutinesBlockedOnDone) {
  auto [ctx, cancel] = ctxpkg::WithCancel(ctxpkg::Background());
  int note = 0;  // plain: ordered by cancel -> Done closed
  std::atomic<int> woken{0};
  go::sync::WaitGroup wg;
  for (int i = 0; i < 4; i++) {
    wg.Go([&, c = ctx] {
      c.Done().Recv();
      EXPECT_EQ(note, 1);
      EXPECT_EQ(c.Err(), kCanceled);
      woken++;
    });
  }
  note = 1;
  cancel();
  wg.Wait();
  EXPECT_EQ(woken.load(), 4);
}

// Go: canceling a context cancels every context derived from it (through value layers too).
TEST(Context, CancellingParentCancelsAllDescendants) {
  auto [parent, cancel] = ctxpkg::WithCancel(ctxpkg::Background());
  auto [child, cancel_child] = ctxpkg::WithCancel(parent);
  ctxpkg::Context valued = ctxpkg::WithValue(child, kUserID, 7);
  auto [grandchild, cancel_grandchild] = ctxpkg::WithCancel(valued);
  auto [timed, cancel_timed] = ctxpkg::WithTimeout(grandchild, absl::Hours(1));
  cancel();
  for (const ctxpkg::Context& c : {parent, child, valued, grandchild, timed}) {
    EXPECT_TRUE(IsClosed(c.Done()));
    EXPECT_EQ(c.Err(), kCanceled);  // the parent's reason, not a deadline
  }
  cancel_child();
  cancel_grandchild();
  cancel_timed();
}

// Go: canceling a child does not cancel its parent or its siblings.
TEST(Context, CancellingChildLeavesParentAndSiblings) {
  auto [parent, cancel] = ctxpkg::WithCancel(ctxpkg::Background());
  auto [a, cancel_a] = ctxpkg::WithCancel(parent);
  auto [b, cancel_b] = ctxpkg::WithCancel(parent);
  cancel_a();
  EXPECT_EQ(a.Err(), kCanceled);
  EXPECT_TRUE(parent.Err().ok());
  EXPECT_FALSE(IsClosed(parent.Done()));
  EXPECT_TRUE(b.Err().ok());
  EXPECT_FALSE(IsClosed(b.Done()));
  cancel();
  EXPECT_EQ(b.Err(), kCanceled);
  cancel_b();
}

// Go: a context derived from an already-canceled parent is canceled at once.
TEST(Context, ChildOfCanceledParentIsBornCanceled) {
  auto [parent, cancel] = ctxpkg::WithCancel(ctxpkg::Background());
  cancel();
  auto [child, cancel_child] = ctxpkg::WithCancel(parent);
  EXPECT_TRUE(IsClosed(child.Done()));
  EXPECT_EQ(child.Err(), kCanceled);
  cancel_child();
}

// Go 1.20: WithCancelCause's cancel(cause) sets Err to Canceled and Cause to cause; only the
// first cancel counts; a nil (OK) cause means Cause returns Canceled.
TEST(Context, WithCancelCauseRecordsTheCause) {
  const absl::Status boom = absl::InternalError("boom");
  auto [ctx, cancel] = ctxpkg::WithCancelCause(ctxpkg::Background());
  EXPECT_TRUE(ctxpkg::Cause(ctx).ok());
  cancel(boom);
  EXPECT_EQ(ctx.Err(), kCanceled);
  EXPECT_EQ(ctxpkg::Cause(ctx), boom);
  cancel(absl::UnavailableError("later"));
  EXPECT_EQ(ctxpkg::Cause(ctx), boom);

  auto [ok_ctx, ok_cancel] = ctxpkg::WithCancelCause(ctxpkg::Background());
  ok_cancel(absl::OkStatus());
  EXPECT_EQ(ok_ctx.Err(), kCanceled);
  EXPECT_EQ(ctxpkg::Cause(ok_ctx), kCanceled);
}

// Go 1.20: a context canceled through its parent has the parent's cause.
TEST(Context, DescendantsInheritTheCause) {
  const absl::Status boom = absl::AbortedError("parent failed");
  auto [parent, cancel] = ctxpkg::WithCancelCause(ctxpkg::Background());
  auto [child, cancel_child] = ctxpkg::WithCancel(parent);
  ctxpkg::Context grandchild = ctxpkg::WithValue(child, kUserID, 1);
  cancel(boom);
  EXPECT_EQ(child.Err(), kCanceled);
  EXPECT_EQ(ctxpkg::Cause(child), boom);
  EXPECT_EQ(ctxpkg::Cause(grandchild), boom);
  cancel_child();
}

// Go 1.20: Cause of a context canceled without a cause is its Err; of a live context, nil (OK).
TEST(Context, CauseWithoutACauseIsErr) {
  auto [ctx, cancel] = ctxpkg::WithCancel(ctxpkg::Background());
  EXPECT_TRUE(ctxpkg::Cause(ctx).ok());
  cancel();
  EXPECT_EQ(ctxpkg::Cause(ctx), ctx.Err());
  EXPECT_EQ(ctxpkg::Cause(ctx), kCanceled);
}

// ---------------------------------------------------------------------------------------------
// context: deadlines (virtual time)

// Go: WithTimeout's Done closes when the timeout elapses, and Err becomes DeadlineExceeded
// ("context deadline exceeded"); not a nanosecond earlier.
TEST(Context, WithTimeoutExpiresExactlyAtTheDeadline) {
  go::synctest::Test([] {
    const absl::Duration timeout = absl::Seconds(5);
    auto [ctx, cancel] = ctxpkg::WithTimeout(ctxpkg::Background(), timeout);
    EXPECT_EQ(ctx.Deadline(), std::optional<absl::Time>(kEpoch + timeout));
    go::Sleep(timeout - absl::Nanoseconds(1));
    go::synctest::Wait();
    EXPECT_TRUE(ctx.Err().ok());
    EXPECT_FALSE(IsClosed(ctx.Done()));
    go::Sleep(absl::Nanoseconds(1));
    go::synctest::Wait();
    EXPECT_EQ(go::Now(), kEpoch + timeout);
    EXPECT_TRUE(IsClosed(ctx.Done()));
    EXPECT_EQ(ctx.Err(), kDeadlineExceeded);
    EXPECT_EQ(ctx.Err().message(), "context deadline exceeded");
    EXPECT_EQ(ctxpkg::Cause(ctx), kDeadlineExceeded);
    cancel();  // after expiry: Err stays DeadlineExceeded
    EXPECT_EQ(ctx.Err(), kDeadlineExceeded);
  });
}

// Go: WithDeadline's Done closes at the deadline: a goroutine blocked on it wakes then.
TEST(Context, WithDeadlineWakesWaitersAtTheDeadline) {
  go::synctest::Test([] {
    const absl::Time deadline = kEpoch + absl::Minutes(3);
    auto [ctx, cancel] = ctxpkg::WithDeadline(ctxpkg::Background(), deadline);
    EXPECT_EQ(ctx.Deadline(), std::optional<absl::Time>(deadline));
    absl::Time woke;
    go::sync::WaitGroup wg;
    wg.Go([&, c = ctx] {
      c.Done().Recv();
      woke = go::Now();
    });
    wg.Wait();
    EXPECT_EQ(woke, deadline);
    EXPECT_EQ(ctx.Err(), kDeadlineExceeded);
    cancel();
  });
}

// Go: "If the parent's deadline is already earlier than d, WithDeadline(parent, d) is
// semantically equivalent to parent": a child's deadline is never later than its parent's, and
// derived contexts report the nearest deadline.
TEST(Context, ChildDeadlineIsNeverLaterThanParents) {
  go::synctest::Test([] {
    auto [parent, cancel] = ctxpkg::WithTimeout(ctxpkg::Background(), absl::Seconds(5));
    auto [later, cancel_later] = ctxpkg::WithTimeout(parent, absl::Hours(1));
    auto [earlier, cancel_earlier] = ctxpkg::WithTimeout(parent, absl::Seconds(1));
    auto [plain, cancel_plain] = ctxpkg::WithCancel(parent);
    EXPECT_EQ(later.Deadline(), parent.Deadline());
    EXPECT_EQ(plain.Deadline(), parent.Deadline());
    EXPECT_EQ(earlier.Deadline(), std::optional<absl::Time>(kEpoch + absl::Seconds(1)));
    EXPECT_EQ(ctxpkg::WithValue(later, kUserID, 1).Deadline(), parent.Deadline());

    go::Sleep(absl::Seconds(1));
    go::synctest::Wait();
    EXPECT_EQ(earlier.Err(), kDeadlineExceeded);
    EXPECT_TRUE(parent.Err().ok());
    EXPECT_TRUE(later.Err().ok());

    go::Sleep(absl::Seconds(4));
    go::synctest::Wait();
    EXPECT_EQ(parent.Err(), kDeadlineExceeded);
    EXPECT_EQ(later.Err(), kDeadlineExceeded);
    EXPECT_EQ(plain.Err(), kDeadlineExceeded);
    cancel();
    cancel_later();
    cancel_earlier();
    cancel_plain();
  });
}

// Go: a deadline that has already passed (a non-positive timeout) gives a context that is done
// at once, with DeadlineExceeded.
TEST(Context, NonPositiveTimeoutIsAlreadyDone) {
  go::synctest::Test([] {
    auto [zero, cancel_zero] = ctxpkg::WithTimeout(ctxpkg::Background(), absl::ZeroDuration());
    auto [neg, cancel_neg] = ctxpkg::WithTimeout(ctxpkg::Background(), -absl::Seconds(1));
    auto [past, cancel_past] =
        ctxpkg::WithDeadline(ctxpkg::Background(), go::Now() - absl::Hours(1));
    for (const ctxpkg::Context& c : {zero, neg, past}) {
      EXPECT_TRUE(IsClosed(c.Done()));
      EXPECT_EQ(c.Err(), kDeadlineExceeded);
    }
    EXPECT_EQ(go::Now(), kEpoch);  // no time had to pass
    cancel_zero();
    cancel_neg();
    cancel_past();
  });
}

// Go: a context canceled before its deadline keeps Err() == Canceled after the deadline passes.
TEST(Context, CancelBeforeDeadlineKeepsCanceled) {
  go::synctest::Test([] {
    auto [ctx, cancel] = ctxpkg::WithTimeout(ctxpkg::Background(), absl::Seconds(1));
    cancel();
    EXPECT_EQ(ctx.Err(), kCanceled);
    go::Sleep(absl::Seconds(2));
    go::synctest::Wait();
    EXPECT_EQ(ctx.Err(), kCanceled);
  });
}

// ---------------------------------------------------------------------------------------------
// context: values, WithoutCancel

// Go: Value returns the value for key from the nearest context that has it, walking up through
// every kind of derived context; absent keys give nil (nullptr).
TEST(Context, ValueLooksUpThroughLayers) {
  ctxpkg::Context c1 = ctxpkg::WithValue(ctxpkg::Background(), kUserID, 42);
  ctxpkg::Context c2 = ctxpkg::WithValue(c1, kRequest, std::string("GET /"));
  auto [c3, cancel] = ctxpkg::WithCancel(c2);
  auto [c4, cancel4] = ctxpkg::WithTimeout(c3, absl::Hours(1));
  ctxpkg::Context c5 = ctxpkg::WithoutCancel(c4);
  for (const ctxpkg::Context& c : {c2, c3, c4, c5}) {
    ASSERT_NE(c.Value(kUserID), nullptr);
    EXPECT_EQ(*c.Value(kUserID), 42);
    ASSERT_NE(c.Value(kRequest), nullptr);
    EXPECT_EQ(*c.Value(kRequest), "GET /");
  }
  EXPECT_EQ(c1.Value(kRequest), nullptr);  // values flow down, not up
  EXPECT_EQ(ctxpkg::Background().Value(kUserID), nullptr);
  cancel4();
  cancel();
}

// Go: a nearer WithValue for the same key shadows the outer one, without changing the parent.
TEST(Context, InnerValueShadowsOuter) {
  ctxpkg::Context outer = ctxpkg::WithValue(ctxpkg::Background(), kUserID, 1);
  ctxpkg::Context inner = ctxpkg::WithValue(outer, kUserID, 2);
  EXPECT_EQ(*inner.Value(kUserID), 2);
  EXPECT_EQ(*outer.Value(kUserID), 1);
}

// Go: keys compare by identity: two distinct keys never collide, whatever their names.
TEST(Context, KeysCompareByIdentityNotName) {
  ctxpkg::Context c = ctxpkg::WithValue(ctxpkg::Background(), kUserID, 1);
  EXPECT_EQ(c.Value(kOtherUserID), nullptr);
  ctxpkg::Context d = ctxpkg::WithValue(c, kOtherUserID, 2);
  EXPECT_EQ(*d.Value(kUserID), 1);
  EXPECT_EQ(*d.Value(kOtherUserID), 2);
}

// Go 1.21: WithoutCancel's context is not canceled when its parent is; it has no deadline, a nil
// Done and OK Cause, and keeps the parent's values.
TEST(Context, WithoutCancelIgnoresParentCancellation) {
  go::synctest::Test([] {
    ctxpkg::Context valued = ctxpkg::WithValue(ctxpkg::Background(), kUserID, 5);
    auto [parent, cancel] = ctxpkg::WithCancelCause(valued);
    auto [timed, cancel_timed] = ctxpkg::WithTimeout(parent, absl::Seconds(1));
    ctxpkg::Context detached = ctxpkg::WithoutCancel(timed);
    auto [child, cancel_child] = ctxpkg::WithCancel(detached);
    EXPECT_EQ(detached.Deadline(), std::nullopt);
    EXPECT_FALSE(static_cast<bool>(detached.Done()));
    cancel(absl::InternalError("stop"));
    go::Sleep(absl::Seconds(2));
    go::synctest::Wait();
    EXPECT_EQ(timed.Err(), kCanceled);
    EXPECT_TRUE(detached.Err().ok());
    EXPECT_TRUE(ctxpkg::Cause(detached).ok());
    EXPECT_EQ(go::Select(go::OnRecv(detached.Done()), go::OnDefault()), 1);
    EXPECT_TRUE(child.Err().ok());  // nor is anything derived from it
    ASSERT_NE(detached.Value(kUserID), nullptr);
    EXPECT_EQ(*detached.Value(kUserID), 5);
    cancel_timed();
    cancel_child();
  });
}

// ---------------------------------------------------------------------------------------------
// context.AfterFunc (Go 1.21)

// Go: AfterFunc calls f in its own goroutine after ctx is done; stop() then reports false
// ("f has already been started"), also when called again.
TEST(AfterFunc, RunsFInItsOwnGoroutineOnceDone) {
  go::synctest::Test([] {
    auto [ctx, cancel] = ctxpkg::WithCancel(ctxpkg::Background());
    auto started = go::MakeChan<int>(1);
    auto release = go::MakeChan<int>();
    std::atomic<bool> finished{false};
    std::function<bool()> stop = ctxpkg::AfterFunc(ctx, [&] {
      started.Send(1);
      release.Recv();  // f blocks: cancel must not be waiting for it
      finished = true;
    });
    go::synctest::Wait();
    EXPECT_EQ(started.Len(), 0u);  // not before ctx is done
    cancel();
    EXPECT_EQ(started.Recv(), std::optional<int>(1));
    EXPECT_FALSE(stop());
    EXPECT_FALSE(stop());
    EXPECT_FALSE(finished.load());
    release.Send(1);
  });
}

// Go: stop() before ctx is done prevents f and returns true; a second stop() returns false.
TEST(AfterFunc, StopBeforeDonePreventsF) {
  go::synctest::Test([] {
    auto [ctx, cancel] = ctxpkg::WithCancel(ctxpkg::Background());
    std::atomic<bool> ran{false};
    std::function<bool()> stop = ctxpkg::AfterFunc(ctx, [&] { ran = true; });
    EXPECT_TRUE(stop());
    EXPECT_FALSE(stop());
    cancel();
    go::synctest::Wait();
    EXPECT_FALSE(ran.load());
  });
}

// Go: if ctx is already done, AfterFunc calls f immediately in its own goroutine; it also runs
// on a deadline, at the deadline.
TEST(AfterFunc, AlreadyDoneAndDeadlineContexts) {
  go::synctest::Test([] {
    auto [done_ctx, cancel] = ctxpkg::WithCancel(ctxpkg::Background());
    cancel();
    auto ran = go::MakeChan<absl::Time>(2);
    std::function<bool()> stop1 = ctxpkg::AfterFunc(done_ctx, [&] { ran.Send(go::Now()); });
    EXPECT_EQ(ran.Recv(), std::optional<absl::Time>(kEpoch));

    auto [timed, cancel_timed] = ctxpkg::WithTimeout(ctxpkg::Background(), absl::Seconds(30));
    std::function<bool()> stop2 = ctxpkg::AfterFunc(timed, [&] { ran.Send(go::Now()); });
    EXPECT_EQ(ran.Recv(), std::optional<absl::Time>(kEpoch + absl::Seconds(30)));
    EXPECT_FALSE(stop1());
    EXPECT_FALSE(stop2());
    cancel_timed();
  });
}

// Go: several AfterFuncs on one context all run; on a context that is never done, f never runs
// and stop() reports that it prevented it.
TEST(AfterFunc, SeveralFuncsRunAndNeverDoneNeverRuns) {
  go::synctest::Test([] {
    auto [ctx, cancel] = ctxpkg::WithCancel(ctxpkg::Background());
    std::atomic<int> ran{0};
    std::atomic<bool> never{false};
    auto s1 = ctxpkg::AfterFunc(ctx, [&] { ran++; });
    auto s2 = ctxpkg::AfterFunc(ctx, [&] { ran++; });
    auto s3 = ctxpkg::AfterFunc(ctxpkg::Background(), [&] { never = true; });
    cancel();
    go::synctest::Wait();
    EXPECT_EQ(ran.load(), 2);
    EXPECT_FALSE(never.load());
    EXPECT_TRUE(s3());
    EXPECT_FALSE(s1());
    EXPECT_FALSE(s2());
  });
}

// ---------------------------------------------------------------------------------------------
// errgroup

// x/sync: Wait returns the first non-nil error (by time of return, not of start).
TEST(Errgroup, WaitReturnsTheFirstError) {
  go::synctest::Test([] {
    go::errgroup::Group g;
    g.Go([] {
      go::Sleep(absl::Seconds(2));
      return absl::InternalError("second");
    });
    g.Go([] {
      go::Sleep(absl::Seconds(1));
      return absl::InternalError("first");
    });
    g.Go([] { return absl::OkStatus(); });
    EXPECT_EQ(g.Wait(), absl::InternalError("first"));
    EXPECT_EQ(go::Now(), kEpoch + absl::Seconds(2));  // Wait waited for every task
  });
}

// x/sync: Wait blocks until all function calls from Go have returned, and returns nil (OK) if
// none failed.
TEST(Errgroup, WaitReturnsOkWhenAllSucceed) {
  go::errgroup::Group g;
  std::vector<int> results(16);  // plain: task return happens before Wait returns
  for (int i = 0; i < 16; i++) {
    g.Go([&results, i] {
      results[i] = i * i;
      return absl::OkStatus();
    });
  }
  EXPECT_TRUE(g.Wait().ok());
  for (int i = 0; i < 16; i++) EXPECT_EQ(results[i], i * i);
}

// x/sync: WithContext's context is canceled the first time a function returns an error, with
// that error as its cause; Wait still waits for the others.
TEST(Errgroup, WithContextIsCanceledOnFirstError) {
  const absl::Status bad = absl::NotFoundError("no such file");
  auto gc = go::errgroup::WithContext(ctxpkg::Background());
  go::errgroup::Group& g = *gc.first;
  ctxpkg::Context ctx = gc.second;
  std::atomic<bool> saw_cancel{false};
  g.Go([ctx, bad] {
    ctx.Done().Recv();  // returns once the other task has failed
    EXPECT_EQ(ctxpkg::Cause(ctx), bad);
    return absl::OkStatus();
  });
  g.Go([bad] { return bad; });
  g.Go([ctx, &saw_cancel] {
    ctx.Done().Recv();
    saw_cancel = true;
    return absl::CancelledError("later error");
  });
  EXPECT_EQ(g.Wait(), bad);
  EXPECT_TRUE(saw_cancel.load());
  EXPECT_EQ(ctx.Err(), kCanceled);
  EXPECT_EQ(ctxpkg::Cause(ctx), bad);
}

// x/sync: WithContext's context is canceled the first time Wait returns, even with no error
// (Cause is then Canceled); it is derived from the parent.
TEST(Errgroup, WithContextIsCanceledWhenWaitReturns) {
  auto [parent, cancel_parent] = ctxpkg::WithCancel(ctxpkg::Background());
  ctxpkg::Context valued = ctxpkg::WithValue(parent, kUserID, 3);
  auto gc = go::errgroup::WithContext(valued);
  go::errgroup::Group& g = *gc.first;
  ctxpkg::Context ctx = gc.second;
  ASSERT_NE(ctx.Value(kUserID), nullptr);
  EXPECT_EQ(*ctx.Value(kUserID), 3);
  auto ran = go::MakeChan<int>(4);
  for (int i = 0; i < 4; i++) {
    g.Go([ctx, ran] {
      EXPECT_TRUE(ctx.Err().ok());
      ran.Send(1);
      return absl::OkStatus();
    });
  }
  for (int i = 0; i < 4; i++) ran.Recv();
  EXPECT_TRUE(ctx.Err().ok());  // successes cancel nothing
  EXPECT_TRUE(g.Wait().ok());
  EXPECT_EQ(ctx.Err(), kCanceled);
  EXPECT_EQ(ctxpkg::Cause(ctx), kCanceled);
  EXPECT_TRUE(parent.Err().ok());  // the parent is not affected
  cancel_parent();

  auto [parent2, cancel2] = ctxpkg::WithCancel(ctxpkg::Background());
  auto gc2 = go::errgroup::WithContext(parent2);
  cancel2();  // canceling the parent cancels the group's context
  EXPECT_EQ(gc2.second.Err(), kCanceled);
  EXPECT_TRUE(gc2.first->Wait().ok());
}

// x/sync: SetLimit(n) limits the number of active goroutines to at most n; Go blocks until one
// can be added.
TEST(Errgroup, SetLimitBoundsConcurrency) {
  go::synctest::Test([] {
    go::errgroup::Group g;
    g.SetLimit(2);
    std::atomic<int> active{0}, max_active{0}, started{0};
    for (int i = 0; i < 10; i++) {
      g.Go([&] {
        int now = active.fetch_add(1) + 1;
        started++;
        int m = max_active.load();
        while (now > m && !max_active.compare_exchange_weak(m, now)) {
        }
        go::Sleep(absl::Seconds(1));
        active.fetch_sub(1);
        return absl::OkStatus();
      });
    }
    EXPECT_TRUE(g.Wait().ok());
    EXPECT_EQ(started.load(), 10);
    EXPECT_EQ(max_active.load(), 2);
    EXPECT_EQ(go::Now(), kEpoch + absl::Seconds(5));  // 10 one-second tasks, two at a time
  });
}

// x/sync: Go "blocks until the new goroutine can be added without the number of active
// goroutines in the group exceeding the configured limit".
TEST(Errgroup, GoBlocksWhileTheLimitIsFull) {
  go::synctest::Test([] {
    go::errgroup::Group g;
    g.SetLimit(1);
    auto release = go::MakeChan<int>();
    g.Go([release] {
      release.Recv();
      return absl::OkStatus();
    });
    std::atomic<bool> added{false};
    go::sync::WaitGroup adder;
    adder.Go([&] {
      g.Go([] { return absl::OkStatus(); });
      added = true;
    });
    go::synctest::Wait();
    EXPECT_FALSE(added.load());
    release.Send(1);
    adder.Wait();
    EXPECT_TRUE(added.load());
    EXPECT_TRUE(g.Wait().ok());
  });
}

// x/sync: TryGo calls f in a new goroutine only if the number of active goroutines is below the
// limit, and reports whether it did.
TEST(Errgroup, TryGoFailsOnlyWhenTheLimitIsFull) {
  go::synctest::Test([] {
    go::errgroup::Group g;
    g.SetLimit(1);
    auto release = go::MakeChan<int>();
    EXPECT_TRUE(g.TryGo([release] {
      release.Recv();
      return absl::OkStatus();
    }));
    std::atomic<bool> ran{false};
    EXPECT_FALSE(g.TryGo([&] {
      ran = true;
      return absl::OkStatus();
    }));
    release.Send(1);
    EXPECT_TRUE(g.Wait().ok());
    EXPECT_FALSE(ran.load());  // a refused f is never called
    EXPECT_TRUE(g.TryGo([] { return absl::OkStatus(); }));  // the slot is free again
    EXPECT_TRUE(g.Wait().ok());

    go::errgroup::Group zero;
    zero.SetLimit(0);  // no goroutine may be active at all
    EXPECT_FALSE(zero.TryGo([] { return absl::OkStatus(); }));
  });
}

// x/sync: "A negative value indicates no limit."
TEST(Errgroup, NegativeLimitMeansNoLimit) {
  go::synctest::Test([] {
    go::errgroup::Group g;
    g.SetLimit(1);
    g.SetLimit(-1);
    auto release = go::MakeChan<int>();
    std::atomic<int> active{0};
    for (int i = 0; i < 20; i++) {
      EXPECT_TRUE(g.TryGo([&, release] {
        active++;
        release.Recv();  // closed below
        return absl::OkStatus();
      }));
    }
    go::synctest::Wait();
    EXPECT_EQ(active.load(), 20);
    release.Close();
    EXPECT_TRUE(g.Wait().ok());
  });
}

// x/sync: "The limit must not be modified while any goroutines in the group are active"
// (a panic; errgroup.h: any active goroutine counts, and a negative n never panics).
TEST(Errgroup, SetLimitWhileActivePanics) {
  go::synctest::Test([] {
    go::errgroup::Group g;
    g.SetLimit(2);
    auto release = go::MakeChan<int>();
    g.Go([release] {
      release.Recv();
      return absl::OkStatus();
    });
    EXPECT_GO_PANIC(g.SetLimit(3),
                    "errgroup: modify limit while 1 goroutines in the group are still active");
    EXPECT_NO_THROW(g.SetLimit(-1));
    release.Send(1);
    EXPECT_TRUE(g.Wait().ok());
  });
}

// ---------------------------------------------------------------------------------------------
// synctest

// Go 1.25: inside a bubble, time starts at midnight UTC 2000-01-01.
TEST(Synctest, ClockStartsAt2000) {
  go::synctest::Test([] {
    EXPECT_EQ(go::Now(), absl::FromCivil(absl::CivilSecond(2000, 1, 1, 0, 0, 0),
                                         absl::UTCTimeZone()));
  });
}

// Go 1.25: time in a bubble is virtual: Sleep(1h) advances the clock by exactly 1h and takes
// (next to) no real time.
TEST(Synctest, SleepIsVirtual) {
  const auto real_start = std::chrono::steady_clock::now();
  go::synctest::Test([] {
    const absl::Time start = go::Now();
    go::Sleep(absl::Hours(1));
    EXPECT_EQ(go::Now() - start, absl::Hours(1));
    go::Sleep(absl::Hours(24 * 365));
    EXPECT_EQ(go::Now() - start, absl::Hours(1 + 24 * 365));
  });
  EXPECT_LT(std::chrono::steady_clock::now() - real_start, std::chrono::seconds(30));
}

// Go 1.25: "Time advances when every goroutine in the bubble is durably blocked" -- never while
// one of them can still run.
TEST(Synctest, TimeAdvancesOnlyWhenAllAreBlocked) {
  go::synctest::Test([] {
    std::atomic<bool> slept{false};
    go::Go([&] {
      go::Sleep(absl::Nanoseconds(1));
      slept = true;
    });
    for (int i = 0; i < 1000; i++) {  // runnable all along: the 1ns timer must not fire
      go::Gosched();
      ASSERT_EQ(go::Now(), kEpoch);
      ASSERT_FALSE(slept.load());
    }
    go::synctest::Wait();
    EXPECT_EQ(go::Now(), kEpoch);
    go::Sleep(absl::Nanoseconds(1));
    go::synctest::Wait();
    EXPECT_TRUE(slept.load());
  });
}

// Go 1.25: Test "waits for all goroutines in the bubble to exit" before returning, including
// goroutines started by goroutines.
TEST(Synctest, TestReturnsAfterAllBubbleGoroutinesExit) {
  std::atomic<int> exited{0};
  go::synctest::Test([&] {
    for (int i = 1; i <= 3; i++) {
      go::Go([&, i] {
        go::Go([&, i] {
          go::Sleep(absl::Seconds(10 * i));
          exited++;
        });
        go::Sleep(absl::Seconds(i));
        exited++;
      });
    }
    // the root returns at once
  });
  EXPECT_EQ(exited.load(), 6);
}

// Go 1.25: Wait "blocks until every goroutine within the current bubble, other than the current
// goroutine, is durably blocked" -- e.g. on a channel receive; runnable ones run first.
TEST(Synctest, WaitReturnsOnceOthersAreDurablyBlocked) {
  go::synctest::Test([] {
    auto ch = go::MakeChan<int>();
    std::atomic<int> stage{0};
    go::Go([&] {
      for (int i = 0; i < 100; i++) go::Gosched();  // runnable for a while
      stage = 1;
      std::optional<int> v = ch.Recv();  // then durably blocked
      stage = 1 + *v;
    });
    go::synctest::Wait();
    EXPECT_EQ(stage.load(), 1);
    ch.Send(1);
    go::synctest::Wait();
    EXPECT_EQ(stage.load(), 2);
  });
}

// Go 1.25: if every goroutine in the bubble is durably blocked and no timer can wake one, the
// bubble is deadlocked and Test fails ("deadlock: all goroutines in bubble are blocked").
TEST(Synctest, DeadlockIsReported) {
  try {
    go::synctest::Test([] {
      auto never = go::MakeChan<int>();
      never.Recv();
    });
    ADD_FAILURE() << "expected a deadlock panic";
  } catch (const go::Panic& p) {
    EXPECT_NE(std::string(p.what()).find("deadlock: all goroutines in bubble are blocked"),
              std::string::npos)
        << p.what();
  }
}

// Go 1.25: Wait outside a bubble panics; so does starting a bubble inside a bubble.
TEST(Synctest, MisusePanics) {
  EXPECT_GO_PANIC(go::synctest::Wait(), "synctest.Wait not called from within a synctest bubble");
  go::synctest::Test([] {
    EXPECT_GO_PANIC(go::synctest::Test([] {}),
                    "synctest.Run called from within a synctest bubble");
  });
}

// errgroup: the first error sticks; a later Wait on the same group returns it again.
TEST(Errgroup, FirstErrorSticksAcrossWaits) {
  go::errgroup::Group g;
  g.Go([] { return absl::InternalError("first"); });
  EXPECT_EQ(g.Wait(), absl::InternalError("first"));
  g.Go([] { return absl::OkStatus(); });
  EXPECT_EQ(g.Wait(), absl::InternalError("first"));
}

// WithTimeoutCause: after the deadline, Err is DeadlineExceeded and Cause the given cause; a
// later cancel changes neither.
TEST(Context, TimeoutCauseSurvivesALaterCancel) {
  go::synctest::Test([] {
    auto [ctx, cancel] = ctxpkg::WithTimeoutCause(ctxpkg::Background(), absl::Seconds(1),
                                                  absl::UnavailableError("slow"));
    go::Sleep(absl::Seconds(2));
    EXPECT_EQ(ctx.Err(), kDeadlineExceeded);
    EXPECT_EQ(ctxpkg::Cause(ctx), absl::UnavailableError("slow"));
    cancel();
    EXPECT_EQ(ctx.Err(), kDeadlineExceeded);
    EXPECT_EQ(ctxpkg::Cause(ctx), absl::UnavailableError("slow"));
  });
}

}  // namespace
