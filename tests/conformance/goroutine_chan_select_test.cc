// Go-semantics conformance: goroutines, channels and select, through runtime/go.h only.
// Every case names the Go rule it checks (the Go spec, "Channel types", "Send statements",
// "Receive operator", "Select statements", "Close"; and the runtime package).
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/go.h"
#include "tests/conformance/conformance.h"

namespace {

using conformance::PanicText;

using go::Chan;
using go::MakeChan;
using go::RecvChan;
using go::SendChan;

// Waits for a goroutine-side flag from the test's thread (blocking receive on any thread is
// allowed: "Any thread may call any blocking operation").
void Join(const Chan<std::monostate>& done, int n) {
  for (int i = 0; i < n; i++) ASSERT_TRUE(done.Recv().has_value());
}

// Waits (up to 30 s of real time, for loaded sanitizer runs) until at most n goroutines live.
void WaitForGoroutinesAtMost(int n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (go::NumGoroutine() > n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// --- goroutines --------------------------------------------------------------------------------

// Go: a go statement runs the function in a new goroutine; its effects before a channel send
// are visible after the matching receive.
TEST(Goroutines, RunAndCommunicateThroughAChannel) {
  auto ch = MakeChan<int>();
  int plain = 0;  // not atomic: the channel orders it
  go::Go([&plain, ch] {
    plain = 42;
    ch.Send(7);
  });
  EXPECT_EQ(ch.Recv(), 7);
  EXPECT_EQ(plain, 42);
}

// runtime.NumGoroutine counts live goroutines: blocked ones count, exited ones do not.
TEST(Goroutines, NumGoroutineCountsLiveOnes) {
  // This test's thread is not a goroutine; let the previous tests' goroutines finish exiting.
  WaitForGoroutinesAtMost(0);
  const int base = go::NumGoroutine();
  EXPECT_EQ(base, 0);
  auto release = MakeChan<std::monostate>();
  auto started = MakeChan<std::monostate>(10);
  auto exited = MakeChan<std::monostate>(10);
  for (int i = 0; i < 10; i++) {
    go::Go([=] {
      started.Send({});
      release.Recv();
      exited.Send({});
    });
  }
  Join(started, 10);
  EXPECT_GE(go::NumGoroutine(), base + 10);
  release.Close();
  Join(exited, 10);
  // An exiting goroutine may still be finishing its last steps: wait for the count, boundedly.
  WaitForGoroutinesAtMost(base);
  EXPECT_EQ(go::NumGoroutine(), base);
}

// runtime.GOMAXPROCS(n): n < 1 only queries; otherwise sets and returns the previous value.
TEST(Goroutines, GomaxprocsQueriesAndSets) {
  const int old = go::GOMAXPROCS(0);
  EXPECT_GE(old, 1);
  EXPECT_EQ(go::GOMAXPROCS(-1), old);
  EXPECT_EQ(go::GOMAXPROCS(3), old);
  EXPECT_EQ(go::GOMAXPROCS(0), 3);
  EXPECT_EQ(go::GOMAXPROCS(old), 3);
  EXPECT_EQ(go::GOMAXPROCS(0), old);
}

// runtime.Gosched yields; a goroutine that yields in a loop still lets another one run, even
// on one P.
TEST(Goroutines, GoschedLetsOthersRunOnOneP) {
  const int old = go::GOMAXPROCS(1);
  std::atomic<bool> flag{false};
  auto done = MakeChan<std::monostate>();
  go::Go([&, done] {
    go::Go([&] { flag.store(true); });
    while (!flag.load()) go::Gosched();
    done.Send({});
  });
  Join(done, 1);
  go::GOMAXPROCS(old);
}

// go::Panic is a std::logic_error whose message is Go's text.
TEST(Goroutines, PanicIsALogicError) {
  static_assert(std::is_base_of_v<std::logic_error, go::Panic>);
  Chan<int> nil;
  EXPECT_THROW(nil.Close(), std::logic_error);
}

// --- channels ----------------------------------------------------------------------------------

// Channel types: the zero value is nil; == compares identity; copies are the same channel.
TEST(Channels, NilIdentityAndCopies) {
  Chan<int> nil;
  EXPECT_FALSE(nil);
  auto a = MakeChan<int>(1);
  auto b = MakeChan<int>(1);
  Chan<int> a2 = a;
  EXPECT_TRUE(a);
  EXPECT_TRUE(a == a2);
  EXPECT_FALSE(a == b);
  a2.Send(5);
  EXPECT_EQ(a.Len(), 1u);
  EXPECT_EQ(a.Recv(), 5);
}

// len and cap: cap is the buffer size, len the queued elements; both 0 for unbuffered and nil.
TEST(Channels, LenAndCap) {
  auto ch = MakeChan<int>(3);
  EXPECT_EQ(ch.Cap(), 3u);
  EXPECT_EQ(ch.Len(), 0u);
  ch.Send(1);
  ch.Send(2);
  EXPECT_EQ(ch.Len(), 2u);
  auto unbuf = MakeChan<int>();
  EXPECT_EQ(unbuf.Cap(), 0u);
  EXPECT_EQ(unbuf.Len(), 0u);
  Chan<int> nil;
  EXPECT_EQ(nil.Cap(), 0u);
  EXPECT_EQ(nil.Len(), 0u);
}

// A buffered channel is a FIFO queue.
TEST(Channels, BufferedIsFifo) {
  auto ch = MakeChan<int>(100);
  for (int i = 0; i < 100; i++) ch.Send(i);
  for (int i = 0; i < 100; i++) EXPECT_EQ(ch.Recv(), i);
}

// Unbuffered: the send completes only when a receiver takes the value (a rendezvous).
TEST(Channels, UnbufferedSendWaitsForTheReceiver) {
  go::synctest::Test([] {
    auto ch = MakeChan<int>();
    std::atomic<bool> sent{false};
    go::Go([&, ch] {
      ch.Send(1);
      sent.store(true);
    });
    go::synctest::Wait();  // the sender is durably blocked
    EXPECT_FALSE(sent.load());
    EXPECT_EQ(ch.Recv(), 1);
    go::synctest::Wait();
    EXPECT_TRUE(sent.load());
  });
}

// A send on a full buffered channel blocks until there is room.
TEST(Channels, FullBufferBlocksTheSender) {
  go::synctest::Test([] {
    auto ch = MakeChan<int>(1);
    ch.Send(1);
    std::atomic<bool> sent{false};
    go::Go([&, ch] {
      ch.Send(2);
      sent.store(true);
    });
    go::synctest::Wait();
    EXPECT_FALSE(sent.load());
    EXPECT_EQ(ch.Recv(), 1);
    go::synctest::Wait();
    EXPECT_TRUE(sent.load());
    EXPECT_EQ(ch.Recv(), 2);
  });
}

// Close: receives drain the buffered values first, then yield the zero value with ok == false.
TEST(Channels, CloseDrainsThenReportsClosed) {
  auto ch = MakeChan<std::string>(2);
  ch.Send("a");
  ch.Send("b");
  ch.Close();
  EXPECT_EQ(ch.Recv(), "a");
  EXPECT_EQ(ch.Recv(), "b");
  EXPECT_EQ(ch.Recv(), std::nullopt);
  EXPECT_EQ(ch.Recv(), std::nullopt);  // again and again
  EXPECT_EQ(ch.Len(), 0u);
}

// Close wakes every blocked receiver.
TEST(Channels, CloseWakesAllReceivers) {
  auto ch = MakeChan<int>();
  auto woke = MakeChan<bool>(8);
  for (int i = 0; i < 8; i++) {
    go::Go([=] { woke.Send(!ch.Recv().has_value()); });
  }
  ch.Close();
  for (int i = 0; i < 8; i++) EXPECT_EQ(woke.Recv(), true);
}

// Go's panics: send on a closed channel, close of a closed channel, close of a nil channel.
TEST(Channels, MisusePanicsWithGosMessages) {
  auto ch = MakeChan<int>(1);
  ch.Close();
  EXPECT_EQ(PanicText([&] { ch.Send(1); }), "send on closed channel");
  EXPECT_EQ(PanicText([&] { ch.Close(); }), "close of closed channel");
  Chan<int> nil;
  EXPECT_EQ(PanicText([&] { nil.Close(); }), "close of nil channel");
}

// A sender blocked on a channel that gets closed panics ("send on closed channel").
TEST(Channels, BlockedSenderPanicsWhenClosed) {
  go::synctest::Test([] {
    auto ch = MakeChan<int>();
    auto result = MakeChan<std::string>(1);
    go::Go([=] { result.Send(PanicText([&] { ch.Send(1); })); });
    go::synctest::Wait();
    ch.Close();
    EXPECT_EQ(result.Recv(), "send on closed channel");
  });
}

// A nil channel blocks forever on send and receive (shown through select, which never picks it).
TEST(Channels, NilChannelNeverProceeds) {
  Chan<int> nil;
  int picked = go::Select(go::OnRecv(nil, [] {}), go::OnSend(nil, 1), go::OnDefault());
  EXPECT_EQ(picked, 2);
}

// for v := range ch: receives until the channel is closed and drained.
TEST(Channels, RangeForReceivesUntilClosed) {
  auto ch = MakeChan<int>();
  go::Go([ch] {
    for (int i = 1; i <= 100; i++) ch.Send(i);
    ch.Close();
  });
  int sum = 0, n = 0;
  for (int v : ch) {
    sum += v;
    n++;
  }
  EXPECT_EQ(n, 100);
  EXPECT_EQ(sum, 5050);
}

// Directional views: a Chan converts implicitly to its receive-only and send-only views, which
// are the same channel.
TEST(Channels, DirectionalViews) {
  auto ch = MakeChan<int>(2);
  SendChan<int> out = ch;
  RecvChan<int> in = ch;
  out.Send(3);
  EXPECT_EQ(in.Len(), 1u);
  EXPECT_EQ(in.Cap(), 2u);
  EXPECT_EQ(in.Recv(), 3);
  out.Close();
  EXPECT_EQ(in.Recv(), std::nullopt);
  int n = 0;
  for (int v : in) n += v;  // range over a receive-only view of a closed channel
  EXPECT_EQ(n, 0);
}

// Move-only element types travel through channels.
TEST(Channels, MoveOnlyElements) {
  auto ch = MakeChan<std::unique_ptr<int>>(1);
  ch.Send(std::make_unique<int>(9));
  std::optional<std::unique_ptr<int>> got = ch.Recv();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(**got, 9);
}

// Values buffered in a channel that is dropped are destroyed (no leak: checked under ASan).
TEST(Channels, BufferedValuesDieWithTheChannel) {
  auto counter = std::make_shared<int>(0);
  {
    auto ch = MakeChan<std::shared_ptr<int>>(3);
    ch.Send(counter);
    ch.Send(counter);
    EXPECT_EQ(counter.use_count(), 3);
  }
  EXPECT_EQ(counter.use_count(), 1);
}

// Blocking operations work from plain threads too, against goroutines.
TEST(Channels, PlainThreadsAndGoroutinesTalk) {
  auto ping = MakeChan<int>();
  auto pong = MakeChan<int>();
  go::Go([=] {
    for (std::optional<int> v = ping.Recv(); v; v = ping.Recv()) pong.Send(*v + 1);
    pong.Close();
  });
  std::thread t([=] {
    for (int i = 0; i < 1000; i++) {
      ping.Send(i);
      EXPECT_EQ(pong.Recv(), i + 1);
    }
    ping.Close();
  });
  t.join();
  EXPECT_EQ(pong.Recv(), std::nullopt);
}

// --- select ------------------------------------------------------------------------------------

// With a default case and nothing ready, select runs the default.
TEST(Select, DefaultWhenNothingIsReady) {
  auto ch = MakeChan<int>();
  bool ran_default = false;
  int picked =
      go::Select(go::OnRecv(ch, [] { FAIL(); }), go::OnDefault([&] { ran_default = true; }));
  EXPECT_EQ(picked, 1);
  EXPECT_TRUE(ran_default);
}

// A ready case wins over default; the callback receives the value (case v, ok := <-ch).
TEST(Select, ReadyCaseBeatsDefaultAndGetsTheValue) {
  auto ch = MakeChan<int>(1);
  ch.Send(4);
  std::optional<int> got;
  int picked = go::Select(go::OnRecv(ch, [&](std::optional<int> v) { got = v; }), go::OnDefault());
  EXPECT_EQ(picked, 0);
  EXPECT_EQ(got, 4);
}

// A receive case on a closed channel is always ready and yields ok == false.
TEST(Select, ClosedChannelIsReadyWithNoValue) {
  auto ch = MakeChan<int>();
  ch.Close();
  std::optional<int> got = 1;
  int picked = go::Select(go::OnRecv(ch, [&](std::optional<int> v) { got = v; }), go::OnDefault());
  EXPECT_EQ(picked, 0);
  EXPECT_EQ(got, std::nullopt);
}

// A send case proceeds when there is buffer room; the value arrives.
TEST(Select, SendCase) {
  auto ch = MakeChan<int>(1);
  bool ran = false;
  int picked = go::Select(go::OnSend(ch, 8, [&] { ran = true; }), go::OnDefault());
  EXPECT_EQ(picked, 0);
  EXPECT_TRUE(ran);
  EXPECT_EQ(ch.Recv(), 8);
  // Full now: the default runs and nothing is sent.
  ch.Send(1);
  picked = go::Select(go::OnSend(ch, 9), go::OnDefault());
  EXPECT_EQ(picked, 1);
  EXPECT_EQ(ch.Len(), 1u);
}

// A select send case on a closed channel panics, as a send does.
TEST(Select, SendCaseOnClosedChannelPanics) {
  auto ch = MakeChan<int>(1);
  ch.Close();
  EXPECT_EQ(PanicText([&] { go::Select(go::OnSend(ch, 1), go::OnDefault()); }),
            "send on closed channel");
}

// Without a default, select blocks until a case can proceed.
TEST(Select, BlocksUntilACaseIsReady) {
  go::synctest::Test([] {
    auto a = MakeChan<int>();
    auto b = MakeChan<int>();
    auto result = MakeChan<int>(1);
    go::Go([=] {
      int got = 0;
      int picked = go::Select(go::OnRecv(a, [&](std::optional<int> v) { got = *v; }),
                              go::OnRecv(b, [&](std::optional<int> v) { got = 100 + *v; }));
      result.Send(picked * 1000 + got);
    });
    go::synctest::Wait();
    EXPECT_EQ(result.Len(), 0u);  // still blocked
    b.Send(5);
    EXPECT_EQ(result.Recv(), 1105);
  });
}

// If several cases are ready, select picks one uniformly at random.
TEST(Select, PicksUniformlyAmongReadyCases) {
  auto a = MakeChan<int>(1);
  auto b = MakeChan<int>(1);
  auto c = MakeChan<int>(1);
  int counts[3] = {0, 0, 0};
  constexpr int kRounds = 3000;
  for (int i = 0; i < kRounds; i++) {
    a.Send(0);
    b.Send(1);
    c.Send(2);
    int picked = go::Select(go::OnRecv(a), go::OnRecv(b), go::OnRecv(c));
    counts[picked]++;
    // Drain the two that were not picked.
    for (auto* ch : {&a, &b, &c}) {
      go::Select(go::OnRecv(*ch), go::OnDefault());
    }
  }
  // Each case expects 1000; a fair picker stays far inside [800, 1200] (about 9 sigma).
  for (int k = 0; k < 3; k++) {
    EXPECT_GT(counts[k], 800) << "case " << k;
    EXPECT_LT(counts[k], 1200) << "case " << k;
  }
}

// select {} with only nil channels and a default: the default; an empty select with a default
// is just the default.
TEST(Select, OnlyDefault) {
  bool ran = false;
  EXPECT_EQ(go::Select(go::OnDefault([&] { ran = true; })), 0);
  EXPECT_TRUE(ran);
}

// Select pairs with a blocked sender on an unbuffered channel (a goroutine waiting in send is a
// ready case for a receive).
TEST(Select, ReceivesFromAWaitingSender) {
  go::synctest::Test([] {
    auto ch = MakeChan<int>();
    go::Go([ch] { ch.Send(11); });
    go::synctest::Wait();
    std::optional<int> got;
    int picked =
        go::Select(go::OnRecv(ch, [&](std::optional<int> v) { got = v; }), go::OnDefault());
    EXPECT_EQ(picked, 0);
    EXPECT_EQ(got, 11);
  });
}

// Two selects on opposite ends of an unbuffered channel meet (neither has a default).
TEST(Select, TwoSelectsRendezvous) {
  auto ch = MakeChan<int>();
  auto other = MakeChan<int>();
  auto done = MakeChan<int>(1);
  go::Go([=] {
    int got = -1;
    go::Select(go::OnRecv(ch, [&](std::optional<int> v) { got = *v; }), go::OnRecv(other));
    done.Send(got);
  });
  go::Select(go::OnSend(ch, 21), go::OnSend(other, 0));
  // Either case may have met the receiver: both are matched by the receiver's select.
  std::optional<int> got = done.Recv();
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(*got == 21 || *got == -1);
}

// A select cannot communicate with itself: a send and a receive case on the same unbuffered
// channel never pair with each other.
TEST(Select, CannotRendezvousWithItself) {
  auto ch = MakeChan<int>();
  EXPECT_EQ(go::Select(go::OnSend(ch, 1), go::OnRecv(ch), go::OnDefault()), 2);
  go::synctest::Test([] {
    auto c = MakeChan<int>();
    auto done = MakeChan<int>(1);
    go::Go([=] { done.Send(go::Select(go::OnSend(c, 1), go::OnRecv(c))); });
    go::synctest::Wait();
    EXPECT_EQ(done.Len(), 0u);  // blocked until someone else receives
    EXPECT_EQ(c.Recv(), 1);
    EXPECT_EQ(done.Recv(), 0);
  });
}

// Two ready cases on the same channel are two cases: either may be chosen.
TEST(Select, DuplicateCasesOnOneChannel) {
  auto ch = MakeChan<int>(1);
  int counts[2] = {0, 0};
  for (int i = 0; i < 1000; i++) {
    ch.Send(i);
    counts[go::Select(go::OnRecv(ch), go::OnRecv(ch))]++;
  }
  EXPECT_GT(counts[0], 350);
  EXPECT_GT(counts[1], 350);
}

// A select blocked on a send case panics when that channel is closed.
TEST(Select, ClosingTheChannelOfABlockedSendCasePanics) {
  go::synctest::Test([] {
    auto ch = MakeChan<int>();
    auto other = MakeChan<int>();
    auto res = MakeChan<std::string>(1);
    go::Go([=] {
      res.Send(PanicText([&] { go::Select(go::OnSend(ch, 1), go::OnRecv(other)); }));
    });
    go::synctest::Wait();
    ch.Close();
    EXPECT_EQ(res.Recv(), "send on closed channel");
  });
}

// Callbacks may take the value as std::optional<T> by value, by const reference, or as auto;
// range-for may bind by value, auto&& or const auto&; move-only values travel through OnSend
// and into goroutines.
TEST(Select, CallbackAndRangeForms) {
  auto ch = MakeChan<int>(4);
  ch.Send(1);
  ch.Send(2);
  int a = 0;
  go::Select(go::OnRecv(ch, [&](auto v) { a = *v; }), go::OnDefault());
  EXPECT_EQ(a, 1);
  go::Select(go::OnRecv(ch, [&](const std::optional<int>& v) { a = *v; }), go::OnDefault());
  EXPECT_EQ(a, 2);
  ch.Send(3);
  ch.Send(4);
  ch.Close();
  int sum = 0;
  for (auto&& v : ch) sum += v;
  EXPECT_EQ(sum, 7);
  auto up = MakeChan<std::unique_ptr<int>>(1);
  go::Select(go::OnSend(up, std::make_unique<int>(5)));
  EXPECT_EQ(**up.Recv(), 5);
  auto done = MakeChan<int>(1);
  go::Go([p = std::make_unique<int>(9), done] { done.Send(*p); });
  RecvChan<int> r = done;
  for (const auto& v : r) {
    EXPECT_EQ(v, 9);
    break;
  }
}

}  // namespace
