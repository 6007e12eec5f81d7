// os/signal: delivery of signals the process sends itself, dropping when the
// channel is full, Stop, NotifyContext, and the graceful-shutdown pattern
// (errgroup + NotifyContext) the server lab needs.
#include "runtime/signal/signal.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/context/context_testing.h"
#include "runtime/errgroup/errgroup.h"
#include "runtime/go.h"

namespace go::signal {
namespace {

using context_testing::Eventually;
using context_testing::IsDone;
using context_testing::LeakCheck;
using context_testing::WaitDone;

// Sends sig to the whole process (any thread may take it: the relay works
// whichever does).
void SendToSelf(int sig) { ASSERT_EQ(kill(getpid(), sig), 0); }

// Receives from ch with a generous bound.
std::optional<int> RecvWithin(const Chan<int>& ch, absl::Duration limit = absl::Seconds(20)) {
  std::optional<int> got;
  Eventually(
      [&] {
        Select(OnRecv(ch, [&](std::optional<int> v) { got = v; }), OnDefault());
        return got.has_value();
      },
      limit);
  return got;
}

bool HandlerIsDefault(int sig) {
  struct sigaction sa {};
  sigaction(sig, nullptr, &sa);
  return sa.sa_handler == SIG_DFL;
}

TEST(SignalTest, NotifyDeliversASignalSentToTheProcess) {
  LeakCheck leaks;
  Chan<int> ch = MakeChan<int>(1);
  Notify(ch, {SIGUSR1});
  EXPECT_FALSE(HandlerIsDefault(SIGUSR1));
  SendToSelf(SIGUSR1);
  EXPECT_EQ(RecvWithin(ch), SIGUSR1);
  SendToSelf(SIGUSR1);  // and again
  EXPECT_EQ(RecvWithin(ch), SIGUSR1);
  Stop(ch);
  EXPECT_TRUE(HandlerIsDefault(SIGUSR1)) << "the previous disposition is restored";
}

TEST(SignalTest, RaisedOnTheCallingThreadToo) {
  Chan<int> ch = MakeChan<int>(1);
  Notify(ch, {SIGUSR2});
  ASSERT_EQ(raise(SIGUSR2), 0);
  EXPECT_EQ(RecvWithin(ch), SIGUSR2);
  Stop(ch);
}

TEST(SignalTest, DeliveryNeverBlocksOnAFullChannel) {
  Chan<int> full = MakeChan<int>(1);
  Chan<int> other = MakeChan<int>(8);
  Notify(full, {SIGUSR1});
  Notify(other, {SIGUSR1});
  for (int i = 0; i < 3; i++) {
    SendToSelf(SIGUSR1);
    // Wait until this one has been relayed before sending the next (the
    // kernel merges pending instances of one signal).
    ASSERT_TRUE(Eventually([&] { return other.Len() == static_cast<size_t>(i + 1); }));
  }
  EXPECT_EQ(full.Len(), 1u) << "the extra signals were dropped, not queued";
  EXPECT_EQ(other.Len(), 3u) << "a full channel does not hold up the others";
  Stop(full);
  Stop(other);
}

TEST(SignalTest, SeveralSignalsOnOneChannelAndNotifyAddsSignals) {
  Chan<int> ch = MakeChan<int>(4);
  Notify(ch, {SIGUSR1});
  Notify(ch, {SIGUSR2, SIGHUP});  // same channel: the set grows
  SendToSelf(SIGHUP);
  EXPECT_EQ(RecvWithin(ch), SIGHUP);
  SendToSelf(SIGUSR2);
  EXPECT_EQ(RecvWithin(ch), SIGUSR2);
  SendToSelf(SIGUSR1);
  EXPECT_EQ(RecvWithin(ch), SIGUSR1);
  Stop(ch);
  EXPECT_TRUE(HandlerIsDefault(SIGHUP));
}

TEST(SignalTest, StopEndsDeliveryToThatChannelOnly) {
  Chan<int> a = MakeChan<int>(4), b = MakeChan<int>(4);
  Notify(a, {SIGUSR1});
  Notify(b, {SIGUSR1});
  Stop(a);
  EXPECT_FALSE(HandlerIsDefault(SIGUSR1)) << "b still watches it";
  SendToSelf(SIGUSR1);
  EXPECT_EQ(RecvWithin(b), SIGUSR1);
  Sleep(absl::Milliseconds(10));
  EXPECT_EQ(a.Len(), 0u);
  Stop(b);
  Stop(b);  // stopping twice does nothing
  EXPECT_TRUE(HandlerIsDefault(SIGUSR1));
}

TEST(SignalTest, NotifyWithANilChannelPanics) {
  try {
    Notify(Chan<int>(), {SIGUSR1});
    ADD_FAILURE() << "expected a panic";
  } catch (const Panic& p) {
    EXPECT_STREQ(p.what(), "os/signal: Notify using nil channel");
  }
}

TEST(SignalTest, SignalNames) {
  EXPECT_EQ(SignalName(SIGINT), "SIGINT");
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(SignalName(SIGUSR1), "SIGUSR1");
}

TEST(NotifyContextTest, SignalCancelsTheContextWithACause) {
  LeakCheck leaks;
  auto [ctx, stop] = NotifyContext(context::Background(), {SIGUSR1});
  EXPECT_FALSE(IsDone(ctx));
  SendToSelf(SIGUSR1);
  ASSERT_TRUE(WaitDone(ctx));
  EXPECT_EQ(ctx.Err(), context::Canceled());
  EXPECT_EQ(context::Cause(ctx), absl::CancelledError("signal received: SIGUSR1"));
  stop();
  EXPECT_TRUE(HandlerIsDefault(SIGUSR1));
}

TEST(NotifyContextTest, StopCancelsAndUnregisters) {
  LeakCheck leaks;  // the watcher goroutine must be gone
  auto [ctx, stop] = NotifyContext(context::Background(), {SIGUSR2});
  stop();
  EXPECT_TRUE(IsDone(ctx));
  EXPECT_EQ(context::Cause(ctx), context::Canceled());
  EXPECT_TRUE(HandlerIsDefault(SIGUSR2));
  stop();
}

TEST(NotifyContextTest, ParentCancellationEndsIt) {
  LeakCheck leaks;
  auto [parent, cancel] = context::WithCancel(context::Background());
  auto [ctx, stop] = NotifyContext(parent, {SIGUSR1});
  cancel();
  ASSERT_TRUE(WaitDone(ctx));
  stop();
}

// The graceful-server pattern: servers started with errgroup, all shut down
// on SIGTERM (here SIGUSR1, so a bug cannot kill the test runner) or on the
// first failure.
absl::Status Serve(const context::Context& ctx, std::atomic<int>* running) {
  ++*running;
  ctx.Done().Recv();  // serve until told to stop
  --*running;
  return absl::OkStatus();  // a clean shutdown is not an error
}

TEST(GracefulShutdownTest, SignalStopsEveryServer) {
  LeakCheck leaks;
  auto [sig_ctx, stop] = NotifyContext(context::Background(), {SIGUSR1});
  auto [g, ctx] = errgroup::WithContext(sig_ctx);
  std::atomic<int> running{0};
  for (int i = 0; i < 3; i++) g->Go([&, ctx = ctx] { return Serve(ctx, &running); });
  ASSERT_TRUE(Eventually([&] { return running.load() == 3; }));
  SendToSelf(SIGUSR1);
  EXPECT_TRUE(g->Wait().ok());
  EXPECT_EQ(running.load(), 0);
  EXPECT_EQ(context::Cause(sig_ctx), absl::CancelledError("signal received: SIGUSR1"));
  stop();
}

TEST(GracefulShutdownTest, FirstFailureStopsEveryServer) {
  LeakCheck leaks;
  auto [sig_ctx, stop] = NotifyContext(context::Background(), {SIGUSR1});
  auto [g, ctx] = errgroup::WithContext(sig_ctx);
  std::atomic<int> running{0};
  for (int i = 0; i < 3; i++) g->Go([&, ctx = ctx] { return Serve(ctx, &running); });
  g->Go([] { return absl::UnavailableError("listen: address already in use"); });
  EXPECT_EQ(g->Wait(), absl::UnavailableError("listen: address already in use"));
  EXPECT_EQ(running.load(), 0);
  EXPECT_FALSE(IsDone(sig_ctx)) << "no signal came";
  stop();
}

}  // namespace
}  // namespace go::signal
