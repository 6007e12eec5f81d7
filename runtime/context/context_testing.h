// Test helpers for the context, errgroup and signal tests (and tests/stress/context_*).
//
//   kScale         divides iteration counts under sanitizers.
//   ProcsScope     sets GOMAXPROCS for a scope and restores it.
//   LeakCheck      fails the test if goroutines or deadline timers started
//                  during it outlive it (bounded wait for them to go away).
//   RunEverywhere  runs a body at GOMAXPROCS 1, 2 and 4, each time on the
//                  test's own thread and inside a goroutine.
//   Eventually     polls a condition with a generous bound.
//   IsDone         a non-blocking "is ctx.Done() closed?".
//   Joiner         starts goroutines and joins them through a channel.
#ifndef GO_RUNTIME_CONTEXT_CONTEXT_TESTING_H_
#define GO_RUNTIME_CONTEXT_CONTEXT_TESTING_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/context/context.h"
#include "runtime/go.h"
#include "runtime/testing/scale.h"

namespace go::context_testing {

using ::go::testutil::kScale;  // runtime/testing/scale.h

using ::go::testutil::ProcsScope;

// Pauses briefly: a goroutine sleeps on the runtime clock, a thread in the
// kernel (both let the goroutines being waited for run).
inline void Pause() { go::Sleep(absl::Microseconds(200)); }

// Polls cond until it holds or `limit` (real time) has passed; returns
// whether it held. Generous bounds: only "it happens", never "how fast".
template <typename Cond>
bool Eventually(Cond cond, absl::Duration limit = absl::Seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(limit);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    Pause();
  }
  return true;
}

// IsDone reports, without blocking, whether ctx.Done() is closed.
inline bool IsDone(const context::Context& ctx) {
  auto done = ctx.Done();
  return done && Select(OnRecv(done), OnDefault()) == 0;
}

// WaitDone waits (bounded) for ctx.Done() to close.
inline bool WaitDone(const context::Context& ctx, absl::Duration limit = absl::Seconds(20)) {
  return Eventually([&] { return IsDone(ctx); }, limit);
}

// LeakCheck: at destruction, waits (bounded) for the goroutine count and the
// number of armed deadline timers to drop back to what they were at
// construction, and fails the test otherwise.
class LeakCheck {
 public:
  LeakCheck()
      : goroutines_(NumGoroutine()), timers_(context::internal::ArmedTimersForTest()) {}
  ~LeakCheck() {
    EXPECT_TRUE(Eventually([&] { return NumGoroutine() <= goroutines_; }))
        << "goroutines leaked: " << NumGoroutine() << " > " << goroutines_;
    EXPECT_TRUE(
        Eventually([&] { return context::internal::ArmedTimersForTest() <= timers_; }))
        << "deadline timers left armed: " << context::internal::ArmedTimersForTest();
  }
  LeakCheck(const LeakCheck&) = delete;
  LeakCheck& operator=(const LeakCheck&) = delete;

 private:
  int goroutines_;
  int64_t timers_;
};

// Joiner: Go(fn) starts fn on a goroutine; Wait() blocks until every fn
// started so far has returned (from a goroutine or a plain thread). A
// sync::WaitGroup underneath, so that joining adds no channel traffic to the
// channel behaviour under test.
class Joiner {
 public:
  Joiner() = default;
  Joiner(const Joiner&) = delete;
  Joiner& operator=(const Joiner&) = delete;
  ~Joiner() { Wait(); }

  template <typename F>
  void Go(F fn) {
    wg_.Go(std::move(fn));
  }
  void Wait() { wg_.Wait(); }

 private:
  sync::WaitGroup wg_;
};

// Runs body() at GOMAXPROCS 1, 2, 4; at each, first on the calling thread,
// then inside a goroutine; checks for goroutine and timer leaks at the end.
inline void RunEverywhere(const std::function<void()>& body) {
  testutil::RunEverywhereWith<Joiner, LeakCheck>(body);
}

}  // namespace go::context_testing

#endif  // GO_RUNTIME_CONTEXT_CONTEXT_TESTING_H_
