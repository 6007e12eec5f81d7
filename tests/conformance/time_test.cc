// Go-semantics conformance: package time's Sleep, Now, After, Tick, Timer and Ticker (Go 1.23
// semantics), through runtime/go.h only. Every case runs in a synctest bubble, whose clock is
// virtual: it starts at 2000-01-01 00:00:00 UTC and moves only when every goroutine of the
// bubble is blocked, so the expected times are exact and the cases take no real time.
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/go.h"
#include "tests/conformance/conformance.h"

namespace {

using conformance::PanicText;

using absl::Milliseconds;
using absl::Seconds;

using conformance::kEpoch;
using conformance::ReceivesAtOnce;

// time.Sleep pauses for at least d; in a bubble, exactly d of virtual time.
TEST(Time, SleepAdvancesTheClockByD) {
  go::synctest::Test([] {
    EXPECT_EQ(go::Now(), kEpoch);
    go::Sleep(Seconds(90));
    EXPECT_EQ(go::Now(), kEpoch + Seconds(90));
    go::Sleep(absl::ZeroDuration());  // returns at once
    go::Sleep(-Seconds(1));
    EXPECT_EQ(go::Now(), kEpoch + Seconds(90));
  });
}

// Goroutines sleeping different durations wake in order of their deadlines.
TEST(Time, SleepersWakeInDeadlineOrder) {
  go::synctest::Test([] {
    auto order = go::MakeChan<int>(3);
    for (int d : {30, 10, 20}) {
      go::Go([=] {
        go::Sleep(Milliseconds(d));
        order.Send(d);
      });
    }
    EXPECT_EQ(order.Recv(), 10);
    EXPECT_EQ(order.Recv(), 20);
    EXPECT_EQ(order.Recv(), 30);
    EXPECT_EQ(go::Now(), kEpoch + Milliseconds(30));
  });
}

// time.After(d) delivers the current time once d has passed.
TEST(Time, AfterDeliversTheTimeOnce) {
  go::synctest::Test([] {
    auto c = go::After(Seconds(5));
    EXPECT_FALSE(ReceivesAtOnce(c));
    std::optional<absl::Time> t = c.Recv();
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(*t, kEpoch + Seconds(5));
    EXPECT_FALSE(ReceivesAtOnce(c));  // one value only; the channel is never closed
  });
}

// The timeout idiom: select between a result and time.After.
TEST(Time, SelectWithTimeout) {
  go::synctest::Test([] {
    auto never = go::MakeChan<int>();
    bool timed_out = false;
    go::Select(go::OnRecv(never), go::OnRecv(go::After(Seconds(1)), [&] { timed_out = true; }));
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(go::Now(), kEpoch + Seconds(1));
  });
}

// Timer: C() receives the time once after d. Go 1.23: C() is unbuffered (len and cap 0).
TEST(Time, TimerFiresOnce) {
  go::synctest::Test([] {
    go::Timer t(Seconds(2));
    EXPECT_EQ(t.C().Cap(), 0u);
    EXPECT_EQ(t.C().Len(), 0u);
    EXPECT_EQ(t.C().Recv(), kEpoch + Seconds(2));
    go::Sleep(Seconds(10));
    EXPECT_FALSE(ReceivesAtOnce(t.C()));
  });
}

// Timer with d <= 0 fires at once.
TEST(Time, TimerWithNonPositiveDurationFiresAtOnce) {
  go::synctest::Test([] {
    go::Timer t(absl::ZeroDuration());
    EXPECT_EQ(t.C().Recv(), kEpoch);
  });
}

// Stop before the timer fires: returns true and nothing is ever delivered.
TEST(Time, StopBeforeFiringPreventsDelivery) {
  go::synctest::Test([] {
    go::Timer t(Seconds(1));
    EXPECT_TRUE(t.Stop());
    go::Sleep(Seconds(5));
    EXPECT_FALSE(ReceivesAtOnce(t.C()));
    EXPECT_FALSE(t.Stop());  // already stopped
  });
}

// Stop after the value was received: returns false.
TEST(Time, StopAfterReceiveReturnsFalse) {
  go::synctest::Test([] {
    go::Timer t(Seconds(1));
    t.C().Recv();
    EXPECT_FALSE(t.Stop());
  });
}

// Go 1.23: a timer that expired but whose value was not received yet counts as stoppable: Stop
// returns true and the stale value is never received.
TEST(Time, StopDiscardsAnUnreceivedValue) {
  go::synctest::Test([] {
    go::Timer t(Seconds(1));
    go::Sleep(Seconds(2));  // expired, nobody received
    EXPECT_TRUE(t.Stop());
    EXPECT_FALSE(ReceivesAtOnce(t.C()));
    go::Sleep(Seconds(2));
    EXPECT_FALSE(ReceivesAtOnce(t.C()));
  });
}

// Reset of a pending timer returns true and moves its deadline; only the new value arrives.
TEST(Time, ResetPendingTimer) {
  go::synctest::Test([] {
    go::Timer t(Seconds(1));
    go::Sleep(Milliseconds(500));
    EXPECT_TRUE(t.Reset(Seconds(3)));
    EXPECT_EQ(t.C().Recv(), kEpoch + Milliseconds(3500));
  });
}

// Reset of an expired, received timer returns false and arms it again.
TEST(Time, ResetExpiredTimerRearms) {
  go::synctest::Test([] {
    go::Timer t(Seconds(1));
    t.C().Recv();
    EXPECT_FALSE(t.Reset(Seconds(1)));
    EXPECT_EQ(t.C().Recv(), kEpoch + Seconds(2));
  });
}

// Go 1.23: after Reset returns, no value from the earlier arming is received, even one that
// fired before the Reset and was not received.
TEST(Time, ResetDiscardsAStaleValue) {
  go::synctest::Test([] {
    go::Timer t(Seconds(1));
    go::Sleep(Seconds(2));                  // the first arming fired at t=1s, unreceived
    EXPECT_TRUE(t.Reset(Seconds(5)));      // it stopped that delivery
    EXPECT_EQ(t.C().Recv(), kEpoch + Seconds(7));  // only the new value
  });
}

// Timer handles are copyable and control the same timer (like *time.Timer).
TEST(Time, TimerCopiesShareTheTimer) {
  go::synctest::Test([] {
    go::Timer t(Seconds(1));
    go::Timer copy = t;
    EXPECT_TRUE(copy.Stop());
    EXPECT_FALSE(t.Stop());
  });
}

// Methods on an uninitialized timer panic with Go's messages (a moved-from handle here).
TEST(Time, UninitializedTimerPanics) {
  go::synctest::Test([] {
    go::Timer t(Seconds(1));
    go::Timer other = std::move(t);
    EXPECT_EQ(PanicText([&] { t.Stop(); }), "time: Stop called on uninitialized Timer");
    EXPECT_EQ(PanicText([&] { t.Reset(Seconds(1)); }),
              "time: Reset called on uninitialized Timer");
    EXPECT_TRUE(other.Stop());
  });
}

// Ticker: delivers the time every d.
TEST(Time, TickerTicksEveryPeriod) {
  go::synctest::Test([] {
    go::Ticker tk(Milliseconds(100));
    for (int i = 1; i <= 5; i++) EXPECT_EQ(tk.C().Recv(), kEpoch + Milliseconds(100 * i));
    tk.Stop();
  });
}

// A ticker drops ticks for a slow receiver: at most one tick waits.
TEST(Time, TickerDropsTicksForSlowReceivers) {
  go::synctest::Test([] {
    go::Ticker tk(Seconds(1));
    go::Sleep(Milliseconds(5500));  // ticks at 1..5 s; only one can wait
    EXPECT_TRUE(ReceivesAtOnce(tk.C()));     // one tick was waiting
    EXPECT_FALSE(ReceivesAtOnce(tk.C()));    // and only one
    EXPECT_EQ(tk.C().Recv(), kEpoch + Seconds(6));  // the schedule is kept
    tk.Stop();
  });
}

// Ticker.Stop: no tick is received afterwards (Go 1.23 discards a waiting one); C is not closed.
TEST(Time, TickerStop) {
  go::synctest::Test([] {
    go::Ticker tk(Seconds(1));
    go::Sleep(Milliseconds(1500));  // one tick waiting
    tk.Stop();
    EXPECT_FALSE(ReceivesAtOnce(tk.C()));
    go::Sleep(Seconds(10));
    EXPECT_FALSE(ReceivesAtOnce(tk.C()));
  });
}

// Ticker.Reset: stops the ticker and restarts it with the new period from now.
TEST(Time, TickerReset) {
  go::synctest::Test([] {
    go::Ticker tk(Seconds(1));
    EXPECT_EQ(tk.C().Recv(), kEpoch + Seconds(1));
    tk.Reset(Seconds(3));
    EXPECT_EQ(tk.C().Recv(), kEpoch + Seconds(4));
    EXPECT_EQ(tk.C().Recv(), kEpoch + Seconds(7));
    tk.Stop();
  });
}

// NewTicker and Ticker.Reset panic on a non-positive interval; Tick returns nil for one.
TEST(Time, NonPositiveTickerIntervals) {
  EXPECT_EQ(PanicText([] { go::Ticker tk(absl::ZeroDuration()); }),
            "non-positive interval for NewTicker");
  go::synctest::Test([] {
    go::Ticker tk(Seconds(1));
    EXPECT_EQ(PanicText([&] { tk.Reset(-Seconds(1)); }), "non-positive interval for Ticker.Reset");
    tk.Stop();
    EXPECT_FALSE(go::Tick(absl::ZeroDuration()));
    auto c = go::Tick(Seconds(2));
    EXPECT_EQ(c.Recv(), kEpoch + Seconds(2));
  });
}

// Outside a bubble the clock is the real one: Now() is close to absl::Now().
TEST(Time, OutsideABubbleNowIsWallClock) {
  EXPECT_LT(absl::AbsDuration(go::Now() - absl::Now()), Seconds(5));
}

// Reset re-arms the timer a goroutine is already waiting on: it receives the new arming's value.
TEST(Time, ResetWhileAReceiverWaits) {
  go::synctest::Test([] {
    go::Timer t(Seconds(10));
    auto got = go::MakeChan<absl::Time>(1);
    go::Go([=] { got.Send(*t.C().Recv()); });
    go::synctest::Wait();
    go::Timer copy = t;
    EXPECT_TRUE(copy.Reset(Seconds(2)));
    EXPECT_EQ(got.Recv(), kEpoch + Seconds(2));
  });
}

// Ticker.Reset restarts a stopped ticker with the new period, counted from the Reset.
TEST(Time, TickerResetAfterStopRestarts) {
  go::synctest::Test([] {
    go::Ticker tk(Seconds(1));
    tk.Stop();
    go::Sleep(Seconds(5));
    tk.Reset(Seconds(2));
    EXPECT_EQ(tk.C().Recv(), kEpoch + Seconds(7));
    tk.Stop();
  });
}

}  // namespace
