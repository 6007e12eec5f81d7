// Behaviour of After, Tick, Timer and Ticker: Go 1.23 semantics (no stale
// values after Stop/Reset, Stop/Reset results, ticks dropped for slow
// receivers), panics, and that unreferenced timers are removed.
//
// No test asserts an upper bound on a wall-clock duration: bounds are either
// logical (a timer never fires early) or computed from measured time.
#include "runtime/time/timer.h"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/chan/chan_testing.h"
#include "runtime/go.h"

namespace go {
namespace {

using chan_testing::Eventually;
using chan_testing::Group;
using chan_testing::kScale;
using chan_testing::LeakCheck;
using chan_testing::RunEverywhere;

// A non-blocking receive: the value, or nullopt if none is ready.
std::optional<absl::Time> Poll(const RecvChan<absl::Time>& c) {
  std::optional<absl::Time> got;
  Select(OnRecv(c, [&](std::optional<absl::Time> v) { got = v; }), OnDefault());
  return got;
}

// Waits d and reports whether c delivered anything meanwhile.
bool DeliversWithin(const RecvChan<absl::Time>& c, absl::Duration d) {
  return Select(OnRecv(c), OnRecv(After(d))) == 0;
}

// Burns about n pause instructions: sub-microsecond jitter around a timer.
void Spin(int n) {
  for (int k = 0; k < n; k++) sched::CpuRelax();
}

template <typename F>
void ExpectPanic(F f, const std::string& msg) {
  try {
    f();
    ADD_FAILURE() << "expected Panic(\"" << msg << "\")";
  } catch (const Panic& p) {
    EXPECT_EQ(std::string(p.what()), msg);
  }
}

TEST(TimerTest, AfterDeliversTheDueTimeOnce) {
  RunEverywhere([] {
    const absl::Duration d = absl::Milliseconds(5);
    const absl::Time start = Now();
    RecvChan<absl::Time> c = After(d);
    std::optional<absl::Time> v = c.Recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(Now() - start, d);                          // never early
    EXPECT_GE(*v - start, d - absl::Milliseconds(1));    // the due time, in wall terms
    EXPECT_LE(*v, Now());
    EXPECT_FALSE(DeliversWithin(c, absl::Milliseconds(10)));  // once
  });
}

TEST(TimerTest, NonPositiveDurationsFireAtOnce) {
  RunEverywhere([] {
    EXPECT_TRUE(After(absl::ZeroDuration()).Recv().has_value());
    EXPECT_TRUE(After(-absl::Seconds(1)).Recv().has_value());
    Timer t(-absl::Seconds(1));
    EXPECT_TRUE(t.C().Recv().has_value());
  });
}

TEST(TimerTest, TimerChannelsReportLenAndCapZero) {
  Timer t(absl::ZeroDuration());
  Sleep(absl::Milliseconds(5));  // fired (or about to): still 0, as in Go 1.23
  EXPECT_EQ(t.C().Len(), 0u);
  EXPECT_EQ(t.C().Cap(), 0u);
  Ticker k(absl::Hours(1));
  EXPECT_EQ(k.C().Cap(), 0u);
}

TEST(TimerTest, StopBeforeFiringReturnsTrueAndNothingArrives) {
  RunEverywhere([] {
    Timer t(absl::Milliseconds(20));
    EXPECT_TRUE(t.Stop());
    EXPECT_FALSE(t.Stop());  // already stopped
    EXPECT_FALSE(DeliversWithin(t.C(), absl::Milliseconds(40)));
  });
}

TEST(TimerTest, StopAfterReceiveReturnsFalse) {
  RunEverywhere([] {
    Timer t(absl::Milliseconds(1));
    ASSERT_TRUE(t.C().Recv().has_value());
    EXPECT_FALSE(t.Stop());
    EXPECT_FALSE(t.Reset(absl::Hours(1)));
    EXPECT_TRUE(t.Stop());
  });
}

TEST(TimerTest, StopDiscardsAValueThatFiredButWasNotReceived) {
  RunEverywhere([] {
    // Whether or not the timer has fired by the time Stop runs, nobody has
    // received: Stop stops a delivery (true) and nothing arrives afterwards.
    Timer t(absl::Microseconds(100));
    Sleep(absl::Milliseconds(5));
    EXPECT_TRUE(t.Stop());
    EXPECT_EQ(Poll(t.C()), std::nullopt);
    EXPECT_FALSE(DeliversWithin(t.C(), absl::Milliseconds(5)));
  });
}

TEST(TimerTest, ResetNeverLetsAStaleValueThrough) {
  RunEverywhere([] {
    Timer t(absl::Microseconds(100));
    Sleep(absl::Milliseconds(5));
    EXPECT_TRUE(t.Reset(absl::Hours(1)));   // the undelivered value is discarded
    EXPECT_EQ(Poll(t.C()), std::nullopt);
    // `before` is read before the Reset: the value is the new arming's due time, at least
    // `before` + 1 ms, whereas a stale one would be from about 5 ms earlier. (Reading the
    // clock after the Reset raced with the 1 ms: a loaded machine can take longer than that
    // between the two calls, and the due time then precedes the reading.)
    const absl::Time before = Now();
    EXPECT_TRUE(t.Reset(absl::Milliseconds(1)));  // the 1h arming was pending
    std::optional<absl::Time> v = t.C().Recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, before);  // from the new arming, not the first one
    EXPECT_FALSE(t.Reset(absl::Milliseconds(1)));  // received: nothing was stopped
    EXPECT_TRUE(t.C().Recv().has_value());         // an expired timer restarts
  });
}

TEST(TimerTest, StopAlwaysWinsAgainstAnUnreceivedFiring) {
  // Reset to a tiny duration, wait about as long, Stop: the timer races with
  // Stop, but with no receiver Stop must always report true and leave nothing
  // behind.
  const uint64_t seed = std::random_device{}();
  std::printf("TimerTest.StopAlwaysWinsAgainstAnUnreceivedFiring seed=%llu\n",
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  RunEverywhere([seed] {
    std::mt19937_64 rng(seed);
    Timer t(absl::Hours(1));
    const int kIters = 2000 / kScale;
    for (int i = 0; i < kIters; i++) {
      t.Reset(absl::Microseconds(static_cast<int64_t>(rng() % 50)));
      const int spin = static_cast<int>(rng() % 3000);
      Spin(spin);
      if (rng() % 4 == 0) Gosched();
      ASSERT_TRUE(t.Stop()) << "seed " << seed << " iteration " << i;
      ASSERT_EQ(Poll(t.C()), std::nullopt) << "seed " << seed << " iteration " << i;
    }
  });
}

TEST(TimerTest, StopResultMatchesWhatAConcurrentReceiverGot) {
  // A receiver goroutine takes whatever the timer delivers while the owner
  // re-arms and stops it. Each arming's value is either received (and then
  // Stop returns false) or discarded (Stop returns true), never both, never
  // late: the counts must agree exactly.
  const uint64_t seed = std::random_device{}();
  std::printf("TimerTest.StopResultMatchesWhatAConcurrentReceiverGot seed=%llu\n",
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  RunEverywhere([seed] {
    std::mt19937_64 rng(seed);
    Timer t(absl::Hours(1));
    t.Stop();
    Chan<bool> quit = MakeChan<bool>();
    Chan<int> received = MakeChan<int>(1);
    Group g;
    g.Go([c = t.C(), quit, received] {
      int n = 0;
      for (bool done = false; !done;) {
        Select(OnRecv(c, [&] { n++; }), OnRecv(quit, [&] { done = true; }));
      }
      received.Send(n);
    });
    const int kIters = 2000 / kScale;
    int stop_false = 0;
    for (int i = 0; i < kIters; i++) {
      EXPECT_FALSE(t.Reset(absl::Microseconds(static_cast<int64_t>(rng() % 40))));
      const int spin = static_cast<int>(rng() % 4000);
      Spin(spin);
      if (rng() % 3 == 0) Gosched();
      if (!t.Stop()) stop_false++;
    }
    quit.Close();
    g.Wait();
    EXPECT_EQ(*received.Recv(), stop_false) << "seed " << seed;
  });
}

TEST(TimerTest, ConcurrentStopAndResetFromManyGoroutines) {
  // Only safety here (no crash, no TSan report, no stuck timer): several
  // goroutines Reset/Stop one timer while another receives.
  RunEverywhere([] {
    Timer t(absl::Microseconds(10));
    Chan<bool> quit = MakeChan<bool>();
    Group rx, tx;
    rx.Go([c = t.C(), quit] {
      for (bool done = false; !done;) Select(OnRecv(c), OnRecv(quit, [&] { done = true; }));
    });
    for (int w = 0; w < 3; w++) {
      tx.Go([t, w]() mutable {
        for (int i = 0; i < 300 / kScale; i++) {
          if ((i + w) % 2) {
            t.Reset(absl::Microseconds(i % 20));
          } else {
            t.Stop();
          }
        }
      });
    }
    tx.Wait();
    t.Stop();
    EXPECT_EQ(Poll(t.C()), std::nullopt);
    quit.Close();
    rx.Wait();
  });
}

TEST(TimerTest, TimerKeepsRunningWhileItsChannelIsReferenced) {
  RunEverywhere([] {
    RecvChan<absl::Time> c = Timer(absl::Milliseconds(2)).C();  // the Timer itself is gone
    EXPECT_TRUE(c.Recv().has_value());
  });
}

TEST(TimerTest, AfterAsASelectTimeout) {
  RunEverywhere([] {
    Chan<int> never = MakeChan<int>();
    EXPECT_EQ(Select(OnRecv(never), OnRecv(After(absl::Milliseconds(2)))), 1);
  });
}

TEST(TimerTest, UnreferencedTimersAreRemoved) {
  const int64_t base = time_internal::PendingTimers();
  for (int i = 0; i < 1000; i++) {
    After(absl::Hours(1));
    Timer t(absl::Hours(1));
    Ticker k(absl::Hours(1));
  }
  EXPECT_EQ(time_internal::PendingTimers(), base);
  {
    RecvChan<absl::Time> c = Timer(absl::Hours(1)).C();
    EXPECT_EQ(time_internal::PendingTimers(), base + 1);
    Timer t(absl::Hours(1));
    Timer copy = t;
    EXPECT_EQ(time_internal::PendingTimers(), base + 2);
  }
  EXPECT_EQ(time_internal::PendingTimers(), base);
  // A select timeout that loses costs nothing once the select returns.
  Chan<int> ready = MakeChan<int>(1);
  for (int i = 0; i < 100; i++) {
    ready.Send(i);
    EXPECT_EQ(Select(OnRecv(ready), OnRecv(After(absl::Hours(1)))), 0);
  }
  EXPECT_EQ(time_internal::PendingTimers(), base);
  // Dropped while firing: the callback finishes the cleanup.
  for (int i = 0; i < 1000; i++) Timer t(absl::ZeroDuration());
  EXPECT_TRUE(Eventually([&] { return time_internal::PendingTimers() == base; }));
}

TEST(TimerTest, MisusePanicsWithGosMessages) {
  ExpectPanic([] { Ticker t(absl::ZeroDuration()); }, "non-positive interval for NewTicker");
  ExpectPanic([] { Ticker t(-absl::Seconds(1)); }, "non-positive interval for NewTicker");
  Ticker k(absl::Hours(1));
  ExpectPanic([&] { k.Reset(absl::ZeroDuration()); }, "non-positive interval for Ticker.Reset");
  Timer t(absl::Hours(1));
  Timer moved = std::move(t);
  ExpectPanic([&] { t.Stop(); }, "time: Stop called on uninitialized Timer");      // NOLINT
  ExpectPanic([&] { t.Reset(absl::Seconds(1)); }, "time: Reset called on uninitialized Timer");
  EXPECT_FALSE(t.C());  // NOLINT: nil channel
  Ticker km = std::move(k);
  k.Stop();  // NOLINT: tolerated, as in Go
  ExpectPanic([&] { k.Reset(absl::Seconds(1)); }, "time: Reset called on uninitialized Ticker");
  EXPECT_FALSE(Tick(absl::ZeroDuration()));
}

TEST(TickerTest, TicksAtItsPeriod) {
  RunEverywhere([] {
    const absl::Duration period = absl::Milliseconds(2);
    const absl::Time start = Now();
    Ticker k(period);
    absl::Time last = absl::InfinitePast();
    for (int i = 1; i <= 5; i++) {
      std::optional<absl::Time> v = k.C().Recv();
      ASSERT_TRUE(v.has_value());
      EXPECT_GT(*v, last);
      last = *v;
    }
    EXPECT_GE(Now() - start, 5 * period);  // never early
    k.Stop();
  });
}

TEST(TickerTest, DropsTicksForSlowReceivers) {
  RunEverywhere([] {
    const absl::Duration period = absl::Milliseconds(1);
    Ticker k(period);
    Sleep(absl::Milliseconds(30));  // ~30 ticks fire; at most one may wait
    const absl::Time t0 = Now();
    int drained = 0;
    while (Poll(k.C()).has_value()) drained++;
    const absl::Duration spent = Now() - t0;
    // One buffered tick, plus at most one per period that passed while we
    // drained (ticks are on a fixed grid).
    EXPECT_LE(drained, 2 + static_cast<int>(spent / period)) << "spent " << spent;
    k.Stop();
  });
}

TEST(TickerTest, StopAndReset) {
  RunEverywhere([] {
    Ticker k(absl::Milliseconds(1));
    ASSERT_TRUE(k.C().Recv().has_value());
    Sleep(absl::Milliseconds(3));
    k.Stop();  // also discards a waiting tick
    EXPECT_EQ(Poll(k.C()), std::nullopt);
    EXPECT_FALSE(DeliversWithin(k.C(), absl::Milliseconds(10)));
    k.Reset(absl::Milliseconds(2));
    EXPECT_TRUE(k.C().Recv().has_value());
    EXPECT_TRUE(k.C().Recv().has_value());
    k.Stop();
  });
}

TEST(TickerTest, TickChannelTicks) {
  LeakCheck leaks;
  RecvChan<absl::Time> c = Tick(absl::Milliseconds(1));
  EXPECT_TRUE(c.Recv().has_value());
  EXPECT_TRUE(c.Recv().has_value());
}

}  // namespace
}  // namespace go
