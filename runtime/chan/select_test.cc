// Behaviour of go::Select and go::SelectDynamic: readiness, default cases,
// fairness, nil channels, repeated channels, lock order, loser removal,
// panics and the dynamic form.
#include "runtime/chan/select.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
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
using chan_testing::RecvWaiters;
using chan_testing::RunEverywhere;
using chan_testing::SendWaiters;

TEST(SelectTest, ReceivesFromTheReadyCase) {
  RunEverywhere([] {
    Chan<int> a = MakeChan<int>(1), b = MakeChan<int>(1);
    Chan<std::string> s = MakeChan<std::string>(1);
    b.Send(2);
    int got = 0;
    int i = Select(OnRecv(a, [&](std::optional<int> v) { got = *v; }),
                   OnRecv(b, [&](std::optional<int> v) { got = *v; }),
                   OnRecv(s, [&](std::optional<std::string>) { got = -1; }));
    EXPECT_EQ(i, 1);
    EXPECT_EQ(got, 2);
  });
}

TEST(SelectTest, DefaultRunsWhenNothingIsReady) {
  RunEverywhere([] {
    Chan<int> a = MakeChan<int>(), b = MakeChan<int>(1);
    b.Send(0);  // b full: a send case on it is not ready either
    bool ran = false;
    int i = Select(OnRecv(a), OnSend(b, 1), OnDefault([&] { ran = true; }));
    EXPECT_EQ(i, 2);
    EXPECT_TRUE(ran);
    EXPECT_EQ(Select(OnDefault()), 0);
  });
}

TEST(SelectTest, NonBlockingSendAndReceive) {
  RunEverywhere([] {
    for (int cap : {0, 1}) {
      Chan<int> c = MakeChan<int>(cap);
      // Receive from an empty channel: default.
      EXPECT_EQ(Select(OnRecv(c), OnDefault()), 1);
      // Send: succeeds only if there is room (cap 1) or a waiting receiver.
      int sent = Select(OnSend(c, 7), OnDefault());
      EXPECT_EQ(sent, cap == 1 ? 0 : 1);
      if (cap == 1) {
        EXPECT_EQ(Select(OnSend(c, 8), OnDefault()), 1);  // full now
        std::optional<int> v;
        EXPECT_EQ(Select(OnRecv(c, [&](std::optional<int> x) { v = x; }), OnDefault()), 0);
        EXPECT_EQ(v, 7);
      }
      // A waiting receiver makes a non-blocking send ready.
      Chan<int> got = MakeChan<int>(1);
      Group g;
      g.Go([c, got] { got.Send(*c.Recv()); });
      ASSERT_TRUE(Eventually([&] { return RecvWaiters(c) == 1; }));
      EXPECT_EQ(Select(OnSend(c, 9), OnDefault()), 0);
      EXPECT_EQ(got.Recv(), 9);
      g.Wait();
      // Closed: a receive case is ready (nullopt), a send case panics.
      c.Close();
      std::optional<int> v = 5;
      EXPECT_EQ(Select(OnRecv(c, [&](std::optional<int> x) { v = x; }), OnDefault()), 0);
      EXPECT_EQ(v, std::nullopt);
      EXPECT_THROW(Select(OnSend(c, 1), OnDefault()), Panic);
    }
  });
}

TEST(SelectTest, BlocksUntilACaseIsReady) {
  RunEverywhere([] {
    for (int cap : {0, 1}) {
      Chan<int> a = MakeChan<int>(cap), b = MakeChan<int>(cap), c = MakeChan<int>(cap);
      Group g;
      g.Go([b] { b.Send(42); });
      int got = 0;
      int i = Select(OnRecv(a), OnRecv(b, [&](std::optional<int> v) { got = *v; }), OnRecv(c));
      EXPECT_EQ(i, 1);
      EXPECT_EQ(got, 42);
      g.Wait();
      // And a blocked send case, taken by a later receiver.
      g.Go([c] { EXPECT_EQ(c.Recv(), 5); });
      EXPECT_EQ(Select(OnRecv(a), OnSend(c, 5)), 1);
      g.Wait();
      // No waiter of the select is left behind on the losing channels.
      EXPECT_EQ(RecvWaiters(a), 0u);
      EXPECT_EQ(RecvWaiters(c), 0u);
      EXPECT_EQ(SendWaiters(c), 0u);
    }
  });
}

TEST(SelectTest, ChoosesUniformlyAmongReadyCases) {
  // Three always-ready cases, 30000 trials: each count is Binomial(30000,
  // 1/3), mean 10000, sd ~82; [8000, 12000] is more than 24 sd wide, so a
  // fair select cannot fail it, and an unfair one (e.g. always the first
  // ready case, or 1/2-1/4-1/4) cannot pass it.
  RunEverywhere([] {
    constexpr int kTrials = 30000;
    Chan<int> a = MakeChan<int>(1), b = MakeChan<int>(1), c = MakeChan<int>(1);
    a.Send(0);
    b.Send(1);
    c.Send(2);
    int counts[3] = {0, 0, 0};
    for (int t = 0; t < kTrials; t++) {
      int got = -1;
      auto refill = [&](std::optional<int> v) { got = *v; };
      Select(OnRecv(a, refill), OnRecv(b, refill), OnRecv(c, refill));
      counts[got]++;
      (got == 0 ? a : got == 1 ? b : c).Send(got);  // ready again
    }
    for (int k = 0; k < 3; k++) {
      EXPECT_GE(counts[k], 8000) << "case " << k;
      EXPECT_LE(counts[k], 12000) << "case " << k;
    }
  });
}

TEST(SelectTest, ChoosesUniformlyAmongReadySendCases) {
  RunEverywhere([] {
    constexpr int kTrials = 30000;
    Chan<int> a = MakeChan<int>(1), b = MakeChan<int>(1), c = MakeChan<int>(1);
    int counts[3] = {0, 0, 0};
    for (int t = 0; t < kTrials; t++) {
      int i = Select(OnSend(a, 0), OnSend(b, 1), OnSend(c, 2));
      counts[i]++;
      EXPECT_EQ((i == 0 ? a : i == 1 ? b : c).Recv(), i);
    }
    for (int k = 0; k < 3; k++) {
      EXPECT_GE(counts[k], 8000) << "case " << k;
      EXPECT_LE(counts[k], 12000) << "case " << k;
    }
  });
}

// A channel operation is a preemption point: a goroutine that polls with a
// non-blocking select for over 10ms gives its only P to the goroutine it is
// waiting for (without preemption this would spin until the deadline).
TEST(SelectTest, PollingLoopIsPreemptedForTheGoroutineItWaitsFor) {
  const int old = GOMAXPROCS(1);
  auto c = MakeChan<int>(1);
  auto result = MakeChan<bool>(1);
  Go([c, result] {
    Go([c] { c.Send(42); });  // queued behind the poller on the one P
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    int got = 0;
    while (got == 0 && std::chrono::steady_clock::now() < deadline) {
      Select(OnRecv(c, [&](std::optional<int> v) { got = *v; }), OnDefault());
    }
    result.Send(got == 42);
  });
  EXPECT_TRUE(*result.Recv()) << "the polling loop kept its P for 60 s";
  GOMAXPROCS(old);
}

TEST(SelectTest, NilChannelCasesNeverProceed) {
  RunEverywhere([] {
    Chan<int> nil;
    Chan<int> c = MakeChan<int>(1);
    EXPECT_EQ(Select(OnRecv(nil), OnSend(nil, 1), OnDefault()), 2);
    c.Send(3);
    EXPECT_EQ(Select(OnRecv(nil), OnRecv(c), OnSend(nil, 1)), 1);
    // With the only real channel nil, a select with a default takes it.
    EXPECT_EQ(Select(OnRecv(RecvChan<int>()), OnDefault()), 1);
  });
}

TEST(SelectTest, SameChannelInSeveralCases) {
  RunEverywhere([] {
    Chan<int> c = MakeChan<int>(1);
    c.Send(1);
    int counts[2] = {0, 0};
    for (int t = 0; t < 2000; t++) {
      int i = Select(OnRecv(c), OnRecv(c));
      counts[i]++;
      c.Send(1);
    }
    EXPECT_GT(counts[0], 0);
    EXPECT_GT(counts[1], 0);
    // Blocked on the same channel twice, then woken once.
    Chan<int> u = MakeChan<int>();
    Group g;
    g.Go([u] { u.Send(9); });
    std::optional<int> got;
    auto keep = [&](std::optional<int> v) { got = v; };
    int i = Select(OnRecv(u, keep), OnRecv(u, keep), OnRecv(u, keep));
    EXPECT_GE(i, 0);
    EXPECT_EQ(got, 9);
    g.Wait();
    EXPECT_EQ(RecvWaiters(u), 0u);
  });
}

TEST(SelectTest, SendAndReceiveOnTheSameChannel) {
  RunEverywhere([] {
    const int kRounds = 2000 / kScale;
    // Two goroutines each select {send on c, receive from c} on one
    // unbuffered channel: every round pairs one's send with the other's
    // receive (a select never pairs with itself).
    Chan<int> c = MakeChan<int>();
    Chan<int> sends = MakeChan<int>(2), recvs = MakeChan<int>(2);
    Group g;
    for (int id = 0; id < 2; id++) {
      g.Go([=] {
        int s = 0, r = 0;
        for (int k = 0; k < kRounds; k++) {
          Select(OnSend(c, id, [&] { s++; }), OnRecv(c, [&](std::optional<int> v) {
                   EXPECT_EQ(*v, 1 - id);
                   r++;
                 }));
        }
        sends.Send(s);
        recvs.Send(r);
      });
    }
    g.Wait();
    int s = *sends.Recv() + *sends.Recv(), r = *recvs.Recv() + *recvs.Recv();
    EXPECT_EQ(s, r);
    EXPECT_EQ(s + r, 2 * kRounds);
  });
}

TEST(SelectTest, OppositeCaseOrdersNeverDeadlock) {
  RunEverywhere([] {
    const int kRounds = 3000 / kScale;
    Chan<int> a = MakeChan<int>(), b = MakeChan<int>();
    Group g;
    // Two selects over (a, b) and (b, a), fed by two senders.
    for (int k = 0; k < 2; k++) {
      g.Go([=] {
        for (int i = 0; i < kRounds; i++) {
          if (k == 0) {
            Select(OnRecv(a), OnRecv(b));
          } else {
            Select(OnRecv(b), OnRecv(a));
          }
        }
      });
    }
    g.Go([=] {
      for (int i = 0; i < kRounds; i++) Select(OnSend(a, i), OnSend(b, i));
    });
    g.Go([=] {
      for (int i = 0; i < kRounds; i++) Select(OnSend(b, i), OnSend(a, i));
    });
    g.Wait();
  });
}

TEST(SelectTest, LosingWaitersAreRemoved) {
  RunEverywhere([] {
    Chan<int> quiet = MakeChan<int>(), busy = MakeChan<int>();
    Group g;
    g.Go([busy] {
      for (int i = 0; i < 200; i++) busy.Send(i);
    });
    for (int i = 0; i < 200; i++) Select(OnRecv(quiet), OnRecv(busy));
    g.Wait();
    // Without pass 3, 200 dead waiters would pile up on the quiet channel.
    EXPECT_EQ(RecvWaiters(quiet), 0u);
  });
}

TEST(SelectTest, SendCaseOnChannelClosedWhileWaitingPanics) {
  RunEverywhere([] {
    Chan<int> a = MakeChan<int>(), b = MakeChan<int>();
    Group g;
    g.Go([a] {
      ASSERT_TRUE(Eventually([&] { return SendWaiters(a) == 1; }));
      a.Close();
    });
    try {
      Select(OnSend(a, 1), OnRecv(b));
      ADD_FAILURE() << "no panic";
    } catch (const Panic& p) {
      EXPECT_EQ(std::string(p.what()), "send on closed channel");
    }
    g.Wait();
    EXPECT_EQ(RecvWaiters(b), 0u);
  });
}

TEST(SelectTest, ReceiveCaseWokenByCloseGetsNullopt) {
  RunEverywhere([] {
    Chan<int> a = MakeChan<int>(), b = MakeChan<int>(3);
    Group g;
    g.Go([b] {
      ASSERT_TRUE(Eventually([&] { return RecvWaiters(b) == 1; }));
      b.Close();
    });
    std::optional<int> got = 1;
    int i = Select(OnRecv(a), OnRecv(b, [&](std::optional<int> v) { got = v; }));
    EXPECT_EQ(i, 1);
    EXPECT_EQ(got, std::nullopt);
    g.Wait();
  });
}

TEST(SelectTest, MoveOnlyValuesMoveOnlyWhenChosen) {
  RunEverywhere([] {
    Chan<std::unique_ptr<int>> full = MakeChan<std::unique_ptr<int>>(1);
    full.Send(std::make_unique<int>(0));
    Chan<std::unique_ptr<int>> room = MakeChan<std::unique_ptr<int>>(1);
    int i = Select(OnSend(full, std::make_unique<int>(1)), OnSend(room, std::make_unique<int>(2)));
    EXPECT_EQ(i, 1);
    EXPECT_EQ(**room.Recv(), 2);
    EXPECT_EQ(**full.Recv(), 0);
    full.Send(std::make_unique<int>(3));
    std::unique_ptr<int> got;
    Select(OnRecv(full, [&](std::optional<std::unique_ptr<int>> v) { got = std::move(*v); }));
    EXPECT_EQ(*got, 3);
  });
}

TEST(SelectTest, TemporaryChannelHandleIsKeptAlive) {
  LeakCheck leaks;
  auto make = [] {
    Chan<int> c = MakeChan<int>(1);
    c.Send(11);
    return RecvChan<int>(c);
  };
  auto recv_case = OnRecv(make(), [](std::optional<int> v) { EXPECT_EQ(v, 11); });
  EXPECT_EQ(Select(std::move(recv_case)), 0);
}

TEST(SelectTest, EmptySelectBlocksForever) {
  static std::atomic<bool> returned{false};
  int before = 0;
  auto count = [] {
    int n = 0;
    sched::ForEachG([&](sched::G* g) {
      if (g->status.load() == sched::GStatus::kWaiting &&
          g->wait_reason.load() == sched::WaitReason::kSelectNoCases) {
        n++;
      }
    });
    return n;
  };
  before = count();
  // These goroutines stay parked until the process exits, as in Go.
  Go([] {
    Select();
    returned = true;
  });
  Go([] {
    Select(OnRecv(Chan<int>()), OnSend(SendChan<int>(), 1));
    returned = true;
  });
  ASSERT_TRUE(Eventually([&] { return count() == before + 2; }));
  EXPECT_FALSE(returned.load());
}

TEST(SelectTest, DynamicFanIn) {
  RunEverywhere([] {
    constexpr int kChans = 20;  // beyond the inline scratch of 16
    const int kPer = 300 / kScale;
    std::vector<Chan<int>> chans;
    for (int i = 0; i < kChans; i++) chans.push_back(MakeChan<int>(i % 3));
    Group g;
    for (int i = 0; i < kChans; i++) {
      g.Go([c = chans[i], i, kPer] {
        for (int k = 0; k < kPer; k++) c.Send(i * kPer + k);
        c.Close();
      });
    }
    std::vector<std::optional<int>> got(kChans);
    std::vector<SelectCase> cases;
    for (int i = 0; i < kChans; i++) cases.push_back(SelectCase::Recv(chans[i], &got[i]));
    int64_t sum = 0;
    std::vector<int> next(kChans, 0);
    for (int open = kChans; open > 0;) {
      int i = SelectDynamic(cases);
      ASSERT_GE(i, 0);
      ASSERT_LT(i, kChans);
      if (!got[i]) {
        cases[i] = SelectCase::Recv(RecvChan<int>(), &got[i]);
        open--;
        continue;
      }
      EXPECT_EQ(*got[i], i * kPer + next[i]++);
      sum += *got[i];
    }
    const int64_t n = kChans * kPer;
    EXPECT_EQ(sum, n * (n - 1) / 2);
    g.Wait();
  });
}

TEST(SelectTest, DynamicSendDefaultAndMisuse) {
  RunEverywhere([] {
    Chan<std::string> c = MakeChan<std::string>(1);
    std::string v = "x";
    std::vector<SelectCase> cases{SelectCase::Send(c, &v), SelectCase::Default()};
    EXPECT_EQ(SelectDynamic(cases), 0);
    EXPECT_EQ(SelectDynamic(cases), 1);  // full: default
    EXPECT_EQ(c.Recv(), "x");
    std::vector<SelectCase> two_defaults{SelectCase::Default(), SelectCase::Default()};
    EXPECT_THROW(SelectDynamic(two_defaults), Panic);
    std::vector<SelectCase> only_default{SelectCase::Default()};
    EXPECT_EQ(SelectDynamic(only_default), 0);
  });
}

TEST(SelectTest, DynamicFairness) {
  RunEverywhere([] {
    constexpr int kTrials = 30000;
    std::vector<Chan<int>> chans{MakeChan<int>(1), MakeChan<int>(1), MakeChan<int>(1)};
    std::vector<std::optional<int>> got(3);
    std::vector<SelectCase> cases;
    for (int i = 0; i < 3; i++) {
      chans[i].Send(i);
      cases.push_back(SelectCase::Recv(chans[i], &got[i]));
    }
    int counts[3] = {0, 0, 0};
    for (int t = 0; t < kTrials; t++) {
      int i = SelectDynamic(cases);
      counts[i]++;
      chans[i].Send(i);
    }
    for (int k = 0; k < 3; k++) {
      EXPECT_GE(counts[k], 8000) << "case " << k;
      EXPECT_LE(counts[k], 12000) << "case " << k;
    }
  });
}

TEST(SelectTest, RandomizedSelectsAgreeWithAModel) {
  // Each round: random buffered channels with random fill; a non-blocking
  // select over random send/recv cases must pick a case that was ready
  // (known from the model), or default only if none was.
  const uint64_t seed = std::random_device{}();
  std::printf("SelectTest.RandomizedSelectsAgreeWithAModel seed=%llu\n",
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 2000; round++) {
    std::vector<Chan<int>> ch;
    std::vector<size_t> fill;
    for (int i = 0; i < 3; i++) {
      size_t cap = rng() % 3;
      ch.push_back(rng() % 5 == 0 ? Chan<int>() : MakeChan<int>(cap));
      size_t f = (cap == 0 || !ch.back()) ? 0 : rng() % (cap + 1);
      for (size_t k = 0; k < f; k++) ch.back().Send(static_cast<int>(k));
      fill.push_back(f);
    }
    std::vector<std::optional<int>> got(4);
    std::vector<int> vals(4, 100);
    std::vector<SelectCase> cases;
    std::vector<bool> ready;
    for (int k = 0; k < 4; k++) {
      int which = static_cast<int>(rng() % 3);
      bool send = rng() % 2;
      Chan<int>& c = ch[which];
      if (send) {
        cases.push_back(SelectCase::Send(c, &vals[k]));
        ready.push_back(c && fill[which] < c.Cap());
      } else {
        cases.push_back(SelectCase::Recv(c, &got[k]));
        ready.push_back(c && fill[which] > 0);
      }
    }
    cases.push_back(SelectCase::Default());
    int i = SelectDynamic(cases);
    bool any = false;
    for (bool r : ready) any = any || r;
    if (i == 4) {
      EXPECT_FALSE(any) << "seed " << seed << " round " << round;
    } else {
      EXPECT_TRUE(ready[i]) << "seed " << seed << " round " << round;
    }
  }
}

}  // namespace
}  // namespace go
