// The Go memory model's channel rules, checked by ThreadSanitizer.
//
// Every test passes plain, non-atomic data from one goroutine (or thread) to
// another through exactly one kind of channel hand-off and nothing else. If
// the channel failed to create the happens-before edge the rule promises,
// `bazel test --config=tsan` would report a data race here. (Plain and ASan
// builds run the same code as an ordinary functional test.)
//
// Rules (https://go.dev/ref/mem#chan):
//   1. A send happens before the corresponding receive completes.
//   2. Closing a channel happens before a receive that returns because the
//      channel is closed.
//   3. A receive from an unbuffered channel happens before the send on that
//      channel completes.
//   4. The k-th receive on a channel with capacity C happens before the
//      (k+C)-th send from that channel completes.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/chan/chan_testing.h"
#include "runtime/go.h"

namespace go {
namespace {

using chan_testing::Eventually;
using chan_testing::Group;
using chan_testing::kScale;
using chan_testing::RecvWaiters;
using chan_testing::RunEverywhere;
using chan_testing::SendWaiters;

// Plain data: written by one side, read by the other, no atomics.
struct Payload {
  int64_t words[16];
  void Fill(int64_t v) {
    for (auto& w : words) w = v;
  }
  void Expect(int64_t v) const {
    for (auto w : words) ASSERT_EQ(w, v);
  }
};

const int kRounds = 200 / kScale;

// Rule 1, through an unbuffered and a buffered channel: the receiver reads
// what the sender wrote before sending (a shared object, not the value).
TEST(ChanMemoryModelTest, SendHappensBeforeReceiveCompletes) {
  RunEverywhere([] {
    for (int cap : {0, 1, 4}) {
      for (int r = 0; r < kRounds; r++) {
        auto shared = std::make_shared<Payload>();
        Chan<int> c = MakeChan<int>(cap);
        Group g;
        g.Go([c, shared, r] {
          shared->Fill(r);
          c.Send(r);
        });
        EXPECT_EQ(c.Recv(), r);
        shared->Expect(r);
        g.Wait();
      }
    }
  });
}

// Rule 1 when the receiver is already parked (value written into its stack
// slot by the sender) and when the sender is parked (value taken from its
// stack by the receiver).
TEST(ChanMemoryModelTest, SendHappensBeforeReceiveWithEitherSideParked) {
  RunEverywhere([] {
    for (int r = 0; r < kRounds / 4; r++) {
      Payload data;
      Chan<Payload*> c = MakeChan<Payload*>();
      Group g;
      g.Go([c, r] {
        Payload* p = *c.Recv();  // parks first
        p->Expect(r);
        p->Fill(-r);  // hand back below
        c.Send(p);
      });
      ASSERT_TRUE(Eventually([&] { return RecvWaiters(c) == 1; }));
      data.Fill(r);
      c.Send(&data);
      // Now we receive while the goroutine may be parked in its Send.
      Payload* back = *c.Recv();
      back->Expect(-r);
      g.Wait();
    }
  });
}

// Rule 2: the close, not a value, carries the data.
TEST(ChanMemoryModelTest, CloseHappensBeforeReceiveOfClosed) {
  RunEverywhere([] {
    for (int cap : {0, 2}) {
      for (int r = 0; r < kRounds; r++) {
        auto shared = std::make_shared<Payload>();
        Chan<int> c = MakeChan<int>(cap);
        Group g;
        g.Go([c, shared, r] {
          shared->Fill(r);
          c.Close();
        });
        EXPECT_EQ(c.Recv(), std::nullopt);
        shared->Expect(r);
        g.Wait();
      }
    }
  });
}

// Rule 2 through the lock-free fast path: a non-blocking receive that sees
// the channel closed without taking its lock.
TEST(ChanMemoryModelTest, CloseHappensBeforeNonBlockingReceiveOfClosed) {
  RunEverywhere([] {
    for (int cap : {0, 2}) {
      for (int r = 0; r < kRounds; r++) {
        auto shared = std::make_shared<Payload>();
        Chan<int> c = MakeChan<int>(cap);
        Group g;
        g.Go([c, shared, r] {
          shared->Fill(r);
          c.Close();
        });
        bool closed = false;
        while (!closed) {
          Select(OnRecv(c, [&](std::optional<int> v) { closed = !v; }), OnDefault([] { Gosched(); }));
        }
        shared->Expect(r);
        g.Wait();
      }
    }
  });
}

// Rule 3: on an unbuffered channel the receiver's earlier writes are visible
// to the sender once Send returns.
TEST(ChanMemoryModelTest, UnbufferedReceiveHappensBeforeSendCompletes) {
  RunEverywhere([] {
    for (int r = 0; r < kRounds; r++) {
      auto shared = std::make_shared<Payload>();
      Chan<int> c = MakeChan<int>();
      Group g;
      g.Go([c, shared, r] {
        shared->Fill(r);
        EXPECT_EQ(c.Recv(), r);
      });
      c.Send(r);
      shared->Expect(r);
      g.Wait();
    }
  });
}

// Rule 4: a channel of capacity C as a counting semaphore. Send acquires,
// Recv releases; with C == 1 it is a mutex guarding a plain counter. With
// C == 2, two slots guard two plain counters (slot index travels in the
// value: the k-th receive releases the slot the (k+2)-th send then owns).
TEST(ChanMemoryModelTest, KthReceiveHappensBeforeKPlusCthSendCompletes) {
  RunEverywhere([] {
    const int kWorkers = 4;
    const int kIters = 500 / kScale;
    {
      Chan<bool> sem = MakeChan<bool>(1);
      int64_t counter = 0;  // guarded by sem
      Group g;
      for (int w = 0; w < kWorkers; w++) {
        g.Go([sem, &counter, kIters] {
          for (int i = 0; i < kIters; i++) {
            sem.Send(true);
            counter++;
            sem.Recv();
          }
        });
      }
      g.Wait();
      EXPECT_EQ(counter, kWorkers * kIters);
    }
    {
      // Tokens name the slot they guard; a free-slot channel hands them out.
      Chan<int> free = MakeChan<int>(2);
      Chan<bool> sem = MakeChan<bool>(2);
      int64_t slots[2] = {0, 0};
      free.Send(0);
      free.Send(1);
      Group g;
      for (int w = 0; w < kWorkers; w++) {
        g.Go([=, &slots] {
          for (int i = 0; i < kIters; i++) {
            sem.Send(true);
            int s = *free.Recv();
            slots[s]++;
            free.Send(s);
            sem.Recv();
          }
        });
      }
      g.Wait();
      EXPECT_EQ(slots[0] + slots[1], kWorkers * kIters);
    }
  });
}

// Rule 4 in its pure form, C == 1 with no other channel: whoever's Send
// completes after our Recv sees our writes.
TEST(ChanMemoryModelTest, BufferedReceiveHappensBeforeLaterSendCompletes) {
  RunEverywhere([] {
    for (int r = 0; r < kRounds; r++) {
      auto shared = std::make_shared<Payload>();
      Chan<int> c = MakeChan<int>(1);
      c.Send(0);  // fill: the next send must wait for a receive
      Group g;
      g.Go([c, shared, r] {
        c.Send(r);  // the 2nd send: completes after the 1st receive
        shared->Expect(r);
      });
      shared->Fill(r);
      EXPECT_EQ(c.Recv(), 0);  // the 1st receive
      EXPECT_EQ(c.Recv(), r);
      g.Wait();
    }
  });
}

// Select: each case kind, taken in pass 1 (ready) and in pass 2 (parked).
TEST(ChanMemoryModelTest, SelectCasesCarryTheSameEdges) {
  RunEverywhere([] {
    for (int r = 0; r < kRounds / 2; r++) {
      for (bool park_first : {false, true}) {
        Chan<int> idle = MakeChan<int>();
        // Receive case (rule 1).
        {
          auto shared = std::make_shared<Payload>();
          Chan<int> c = MakeChan<int>();
          Group g;
          g.Go([c, shared, r, park_first] {
            if (park_first) Eventually([&] { return RecvWaiters(c) == 1; });
            shared->Fill(r);
            c.Send(r);
          });
          Select(OnRecv(idle), OnRecv(c, [&](std::optional<int> v) { EXPECT_EQ(v, r); }));
          shared->Expect(r);
          g.Wait();
        }
        // Send case, unbuffered (rule 3: the receiver's writes are visible).
        {
          auto shared = std::make_shared<Payload>();
          Chan<int> c = MakeChan<int>();
          Group g;
          g.Go([c, shared, r, park_first] {
            if (park_first) Eventually([&] { return SendWaiters(c) == 1; });
            shared->Fill(r);
            EXPECT_EQ(c.Recv(), r);
          });
          Select(OnRecv(idle), OnSend(c, r));
          shared->Expect(r);
          g.Wait();
        }
        // Receive case woken by Close (rule 2).
        {
          auto shared = std::make_shared<Payload>();
          Chan<int> c = MakeChan<int>();
          Group g;
          g.Go([c, shared, r, park_first] {
            if (park_first) Eventually([&] { return RecvWaiters(c) == 1; });
            shared->Fill(r);
            c.Close();
          });
          Select(OnRecv(idle), OnRecv(c, [](std::optional<int> v) { EXPECT_FALSE(v); }));
          shared->Expect(r);
          g.Wait();
        }
      }
    }
  });
}

// Values themselves: a non-trivial element (heap-owning) moved through the
// buffer, directly, and through a select, read on the far side.
TEST(ChanMemoryModelTest, ElementContentsAreVisibleToTheReceiver) {
  RunEverywhere([] {
    for (int cap : {0, 3}) {
      Chan<std::vector<int64_t>> c = MakeChan<std::vector<int64_t>>(cap);
      Group g;
      g.Go([c] {
        for (int64_t r = 0; r < kRounds; r++) {
          std::vector<int64_t> v(64, r);
          if (r % 2) {
            c.Send(std::move(v));
          } else {
            Select(OnSend(c, std::move(v)));
          }
        }
        c.Close();
      });
      int64_t r = 0;
      for (const std::vector<int64_t>& v : c) {
        for (int64_t x : v) ASSERT_EQ(x, r);
        r++;
      }
      EXPECT_EQ(r, kRounds);
      g.Wait();
    }
  });
}

}  // namespace
}  // namespace go
