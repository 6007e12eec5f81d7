// Behaviour of go::Chan: hand-off, buffering, FIFO order, Close, nil
// channels, panics, element types, range-for. Each behaviour runs at
// GOMAXPROCS 1, 2 and 4, from the test's thread and from a goroutine.
#include "runtime/chan/chan.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <unordered_set>
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
using chan_testing::RecvWaiters;
using chan_testing::RunEverywhere;
using chan_testing::SendWaiters;

template <typename F>
void ExpectPanic(F f, const std::string& msg) {
  try {
    f();
    ADD_FAILURE() << "expected Panic(\"" << msg << "\")";
  } catch (const Panic& p) {
    EXPECT_EQ(std::string(p.what()), msg);
  }
}

TEST(ChanTest, NilHandlesAndIdentity) {
  Chan<int> nil1, nil2;
  EXPECT_FALSE(nil1);
  EXPECT_TRUE(nil1 == nil2);
  EXPECT_EQ(nil1.Len(), 0u);
  EXPECT_EQ(nil1.Cap(), 0u);
  Chan<int> a = MakeChan<int>(), b = MakeChan<int>();
  EXPECT_TRUE(a);
  EXPECT_FALSE(a == b);
  EXPECT_FALSE(a == nil1);
  Chan<int> a2 = a;
  EXPECT_TRUE(a2 == a);
  RecvChan<int> ra = a;
  SendChan<int> sa = a;
  EXPECT_TRUE(ra == a);
  EXPECT_TRUE(sa == a);
  EXPECT_FALSE(ra == b);
  EXPECT_TRUE(RecvChan<int>() == nil1);
  std::unordered_set<Chan<int>> set{a, a2, b};
  EXPECT_EQ(set.size(), 2u);
  Chan<int> moved = std::move(a2);
  EXPECT_TRUE(moved == a);
  EXPECT_FALSE(a2);  // NOLINT: moved-from handles are nil
}

TEST(ChanTest, UnbufferedHandsOffInOrder) {
  RunEverywhere([] {
    const int kN = 2000 / kScale;
    Chan<int> c = MakeChan<int>();
    EXPECT_EQ(c.Cap(), 0u);
    Group g;
    g.Go([c, kN] {
      for (int i = 0; i < kN; i++) c.Send(i);
    });
    for (int i = 0; i < kN; i++) ASSERT_EQ(c.Recv(), i);
    g.Wait();
    EXPECT_EQ(c.Len(), 0u);
  });
}

TEST(ChanTest, BufferedIsFifoWithLenAndCap) {
  RunEverywhere([] {
    Chan<std::string> c = MakeChan<std::string>(3);
    EXPECT_EQ(c.Cap(), 3u);
    c.Send("a");
    c.Send("b");
    c.Send("c");
    EXPECT_EQ(c.Len(), 3u);
    EXPECT_EQ(c.Recv(), "a");
    c.Send("d");  // wraps around the ring
    EXPECT_EQ(c.Recv(), "b");
    EXPECT_EQ(c.Recv(), "c");
    EXPECT_EQ(c.Recv(), "d");
    EXPECT_EQ(c.Len(), 0u);
  });
}

TEST(ChanTest, WaitingReceiverGetsSendersValueDirectly) {
  RunEverywhere([] {
    Chan<int> c = MakeChan<int>(2);
    Chan<int> got = MakeChan<int>(1);
    Group g;
    g.Go([c, got] { got.Send(*c.Recv()); });
    ASSERT_TRUE(Eventually([&] { return RecvWaiters(c) == 1; }));
    c.Send(7);
    EXPECT_EQ(c.Len(), 0u);  // never passed through the buffer
    EXPECT_EQ(got.Recv(), 7);
    g.Wait();
  });
}

TEST(ChanTest, BlockedSenderRefillsTheFreedSlotKeepingFifo) {
  RunEverywhere([] {
    Chan<int> c = MakeChan<int>(2);
    c.Send(1);
    c.Send(2);
    Group g;
    g.Go([c] { c.Send(3); });
    ASSERT_TRUE(Eventually([&] { return SendWaiters(c) == 1; }));
    EXPECT_EQ(c.Recv(), 1);
    EXPECT_EQ(SendWaiters(c), 0u);
    EXPECT_EQ(c.Len(), 2u);  // 3 moved into the slot 1 freed
    EXPECT_EQ(c.Recv(), 2);
    EXPECT_EQ(c.Recv(), 3);
    g.Wait();
  });
}

TEST(ChanTest, BlockedSendersAreServedFirstComeFirstServed) {
  RunEverywhere([] {
    constexpr int kSenders = 6;
    for (int cap : {0, 2}) {
      Chan<int> c = MakeChan<int>(cap);
      for (int i = 0; i < cap; i++) c.Send(-1);
      Group g;
      for (int i = 0; i < kSenders; i++) {
        g.Go([c, i] { c.Send(i); });
        ASSERT_TRUE(Eventually([&] { return SendWaiters(c) == static_cast<size_t>(i + 1); }));
      }
      for (int i = 0; i < cap; i++) EXPECT_EQ(c.Recv(), -1);
      for (int i = 0; i < kSenders; i++) EXPECT_EQ(c.Recv(), i);
      g.Wait();
    }
  });
}

TEST(ChanTest, BlockedReceiversAreServedFirstComeFirstServed) {
  RunEverywhere([] {
    constexpr int kReceivers = 6;
    for (int cap : {0, 3}) {
      Chan<int> c = MakeChan<int>(cap);
      std::vector<int> got(kReceivers, -1);
      Group g;
      for (int i = 0; i < kReceivers; i++) {
        g.Go([c, i, &got] { got[i] = *c.Recv(); });
        ASSERT_TRUE(Eventually([&] { return RecvWaiters(c) == static_cast<size_t>(i + 1); }));
      }
      for (int i = 0; i < kReceivers; i++) c.Send(i);
      g.Wait();
      for (int i = 0; i < kReceivers; i++) EXPECT_EQ(got[i], i);
    }
  });
}

TEST(ChanTest, ValuesOfEachSenderArriveInOrder) {
  RunEverywhere([] {
    constexpr int kSenders = 4;
    const int kPer = 3000 / kScale;
    for (int cap : {0, 1, 16}) {
      Chan<std::pair<int, int>> c = MakeChan<std::pair<int, int>>(cap);
      Group g;
      for (int s = 0; s < kSenders; s++) {
        g.Go([c, s, kPer] {
          for (int i = 0; i < kPer; i++) c.Send({s, i});
        });
      }
      std::vector<int> next(kSenders, 0);
      for (int n = 0; n < kSenders * kPer; n++) {
        auto [s, i] = *c.Recv();
        ASSERT_EQ(i, next[s]) << "sender " << s;
        next[s]++;
      }
      g.Wait();
    }
  });
}

TEST(ChanTest, ProducersAndConsumersLoseAndDuplicateNothing) {
  RunEverywhere([] {
    const int64_t kPer = 5000 / kScale;
    for (int cap : {0, 1, 128}) {
      for (auto [producers, consumers] : {std::pair{1, 1}, std::pair{4, 4}, std::pair{3, 1}}) {
        Chan<int64_t> c = MakeChan<int64_t>(cap);
        Chan<int64_t> sums = MakeChan<int64_t>(consumers);
        Group prod, cons;
        for (int p = 0; p < producers; p++) {
          prod.Go([c, p, kPer] {
            for (int64_t i = 0; i < kPer; i++) c.Send(p * kPer + i);
          });
        }
        for (int k = 0; k < consumers; k++) {
          cons.Go([c, sums] {
            int64_t sum = 0;
            for (int64_t v : c) sum += v + 1;
            sums.Send(sum);
          });
        }
        prod.Wait();
        c.Close();
        cons.Wait();
        int64_t total = 0;
        for (int k = 0; k < consumers; k++) total += *sums.Recv();
        const int64_t n = producers * kPer;
        EXPECT_EQ(total, n * (n + 1) / 2) << "cap " << cap << " " << producers << "x" << consumers;
      }
    }
  });
}

TEST(ChanTest, CloseWakesEveryBlockedReceiverWithNullopt) {
  RunEverywhere([] {
    constexpr int kReceivers = 5;
    for (int cap : {0, 4}) {
      Chan<int> c = MakeChan<int>(cap);
      Chan<bool> results = MakeChan<bool>(kReceivers);
      Group g;
      for (int i = 0; i < kReceivers; i++) g.Go([c, results] { results.Send(c.Recv().has_value()); });
      ASSERT_TRUE(Eventually([&] { return RecvWaiters(c) == kReceivers; }));
      c.Close();
      g.Wait();
      for (int i = 0; i < kReceivers; i++) EXPECT_EQ(results.Recv(), false);
      EXPECT_EQ(c.Recv(), std::nullopt);  // and stays closed
    }
  });
}

TEST(ChanTest, CloseMakesEveryBlockedSenderPanic) {
  RunEverywhere([] {
    constexpr int kSenders = 5;
    for (int cap : {0, 2}) {
      Chan<int> c = MakeChan<int>(cap);
      for (int i = 0; i < cap; i++) c.Send(100 + i);
      Chan<std::string> results = MakeChan<std::string>(kSenders);
      Group g;
      for (int i = 0; i < kSenders; i++) {
        g.Go([c, results, i] {
          try {
            c.Send(i);
            results.Send("sent");
          } catch (const Panic& p) {
            results.Send(p.what());
          }
        });
      }
      ASSERT_TRUE(Eventually([&] { return SendWaiters(c) == kSenders; }));
      c.Close();
      g.Wait();
      for (int i = 0; i < kSenders; i++) EXPECT_EQ(results.Recv(), "send on closed channel");
      // Values buffered before the Close are still delivered, then nullopt.
      for (int i = 0; i < cap; i++) EXPECT_EQ(c.Recv(), 100 + i);
      EXPECT_EQ(c.Recv(), std::nullopt);
    }
  });
}

TEST(ChanTest, BufferedValuesAreDeliveredAfterClose) {
  RunEverywhere([] {
    Chan<int> c = MakeChan<int>(4);
    c.Send(1);
    c.Send(2);
    c.Close();
    EXPECT_EQ(c.Len(), 2u);
    EXPECT_EQ(c.Recv(), 1);
    EXPECT_EQ(c.Recv(), 2);
    EXPECT_EQ(c.Recv(), std::nullopt);
    EXPECT_EQ(c.Recv(), std::nullopt);
  });
}

TEST(ChanTest, MisusePanicsWithGosMessages) {
  RunEverywhere([] {
    Chan<int> c = MakeChan<int>(1);
    c.Close();
    ExpectPanic([&] { c.Send(1); }, "send on closed channel");
    ExpectPanic([&] { c.Close(); }, "close of closed channel");
    ExpectPanic([] { Chan<int>().Close(); }, "close of nil channel");
    ExpectPanic([] { SendChan<int>().Close(); }, "close of nil channel");
    ExpectPanic([] { MakeChan<std::array<char, 1024>>(~size_t{0} / 64); },
                "makechan: size out of range");
  });
}

TEST(ChanTest, MoveOnlyElements) {
  RunEverywhere([] {
    for (int cap : {0, 2}) {
      Chan<std::unique_ptr<int>> c = MakeChan<std::unique_ptr<int>>(cap);
      Group g;
      g.Go([c] {
        for (int i = 0; i < 100; i++) c.Send(std::make_unique<int>(i));
        c.Close();
      });
      int want = 0;
      for (std::unique_ptr<int> p : c) {
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(*p, want++);
      }
      EXPECT_EQ(want, 100);
      g.Wait();
    }
  });
}

TEST(ChanTest, LargeElements) {
  using Big = std::array<uint64_t, 512>;  // 4 KiB
  RunEverywhere([] {
    for (int cap : {0, 3}) {
      Chan<Big> c = MakeChan<Big>(cap);
      Group g;
      g.Go([c] {
        for (uint64_t i = 0; i < 20; i++) {
          Big b;
          for (size_t k = 0; k < b.size(); k++) b[k] = i * 1000 + k;
          c.Send(b);
        }
      });
      for (uint64_t i = 0; i < 20; i++) {
        std::optional<Big> b = c.Recv();
        ASSERT_TRUE(b.has_value());
        for (size_t k = 0; k < b->size(); k++) ASSERT_EQ((*b)[k], i * 1000 + k);
      }
      g.Wait();
    }
  });
}

// Counts live instances to prove every element is destroyed exactly once.
struct Counted {
  static std::atomic<int> live;
  int v;
  explicit Counted(int x) : v(x) { live++; }
  Counted(Counted&& o) noexcept : v(o.v) { live++; }
  Counted(const Counted& o) : v(o.v) { live++; }
  ~Counted() { live--; }
};
std::atomic<int> Counted::live{0};

TEST(ChanTest, UnreceivedValuesAreDestroyedWithTheChannel) {
  {
    Chan<Counted> c = MakeChan<Counted>(8);
    for (int i = 0; i < 6; i++) c.Send(Counted(i));
    EXPECT_EQ(Counted::live.load(), 6);
    EXPECT_EQ(c.Recv()->v, 0);
    EXPECT_EQ(Counted::live.load(), 5);
    c.Send(Counted(6));
    c.Send(Counted(7));
    c.Send(Counted(8));  // wraps the ring
    EXPECT_EQ(Counted::live.load(), 8);
  }
  EXPECT_EQ(Counted::live.load(), 0);
}

TEST(ChanTest, RangeForEndsWhenClosedAndDrained) {
  RunEverywhere([] {
    Chan<int> c = MakeChan<int>(10);
    for (int i = 0; i < 10; i++) c.Send(i);
    c.Close();
    int sum = 0, n = 0;
    for (int v : c) {
      sum += v;
      n++;
    }
    EXPECT_EQ(n, 10);
    EXPECT_EQ(sum, 45);
    RecvChan<int> r = c;
    for (int v : r) ADD_FAILURE() << "got " << v << " from a drained channel";
  });
}

TEST(ChanTest, DirectionalViewsShareTheChannel) {
  RunEverywhere([] {
    Chan<int> c = MakeChan<int>(2);
    SendChan<int> s = c;
    RecvChan<int> r = c;
    s.Send(5);
    EXPECT_EQ(r.Len(), 1u);
    EXPECT_EQ(s.Cap(), 2u);
    EXPECT_EQ(r.Recv(), 5);
    s.Close();
    EXPECT_EQ(r.Recv(), std::nullopt);
  });
}

TEST(ChanTest, ChannelOutlivesItsCreatorThroughHandles) {
  LeakCheck leaks;
  Chan<Chan<int>> handoff = MakeChan<Chan<int>>();
  Group g;
  g.Go([handoff] {
    Chan<int> inner = MakeChan<int>(1);
    inner.Send(42);
    handoff.Send(inner);
  });
  Chan<int> inner = *handoff.Recv();
  g.Wait();
  EXPECT_EQ(inner.Recv(), 42);
}

// Counts goroutines parked with reason r.
int CountWaiting(sched::WaitReason r) {
  int n = 0;
  sched::ForEachG([&](sched::G* g) {
    if (g->status.load() == sched::GStatus::kWaiting && g->wait_reason.load() == r) n++;
  });
  return n;
}

TEST(ChanTest, NilChannelBlocksForever) {
  // These goroutines can never be woken: they stay parked until the process
  // exits (as they would in Go).
  const int recv_before = CountWaiting(sched::WaitReason::kChanReceiveNilChan);
  const int send_before = CountWaiting(sched::WaitReason::kChanSendNilChan);
  static std::atomic<bool> returned{false};
  Go([] {
    Chan<int>().Recv();
    returned = true;
  });
  Go([] {
    SendChan<int>().Send(1);
    returned = true;
  });
  ASSERT_TRUE(Eventually([&] {
    return CountWaiting(sched::WaitReason::kChanReceiveNilChan) == recv_before + 1 &&
           CountWaiting(sched::WaitReason::kChanSendNilChan) == send_before + 1;
  }));
  Sleep(absl::Milliseconds(20));
  EXPECT_FALSE(returned.load());
}

}  // namespace
}  // namespace go
