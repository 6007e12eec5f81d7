// Test helpers for the channel tests (and tests/stress/chan_*).
//
//   Group          starts goroutines and joins them through a channel (no
//                  sync.WaitGroup: the tests of channels need only channels).
//   ProcsScope     sets GOMAXPROCS for a scope and restores it.
//   RunEverywhere  runs a test body at GOMAXPROCS 1, 2 and 4, each time on the
//                  test's own (plain) thread and inside a goroutine.
//   LeakCheck      fails the test if goroutines started during it outlive it.
//   kScale         divides iteration counts under sanitizers.
#ifndef GO_RUNTIME_CHAN_CHAN_TESTING_H_
#define GO_RUNTIME_CHAN_CHAN_TESTING_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>

#include "gtest/gtest.h"
#include "runtime/chan/chan.h"
#include "runtime/go.h"
#include "runtime/testing/scale.h"

namespace go::chan_testing {

using ::go::testutil::kScale;  // runtime/testing/scale.h

// Group: Go(fn) starts fn on a goroutine; Wait() blocks until every started
// fn has returned. Wait may be called from a goroutine or a plain thread.
class Group {
 public:
  template <typename F>
  void Go(F fn) {
    n_++;
    go::Go([done = done_, fn = std::move(fn)]() mutable {
      fn();
      done.Send(true);
    });
  }
  void Wait() {
    for (; n_ > 0; n_--) done_.Recv();
  }
  ~Group() { Wait(); }

 private:
  int n_ = 0;
  Chan<bool> done_ = MakeChan<bool>(64);
};

using ::go::testutil::ProcsScope;

// Waits (bounded: 20 s) for the goroutine count to drop back to `before`.
inline void ExpectNoLeakedGoroutines(int before) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (NumGoroutine() > before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_LE(NumGoroutine(), before) << "goroutines leaked by this test";
}

class LeakCheck {
 public:
  LeakCheck() : before_(NumGoroutine()) {}
  ~LeakCheck() { ExpectNoLeakedGoroutines(before_); }

 private:
  int before_;
};

// Runs body() at GOMAXPROCS 1, 2, 4; at each, first on the calling thread,
// then inside a goroutine (joined through a channel before the next run).
inline void RunEverywhere(const std::function<void()>& body) {
  testutil::RunEverywhereWith<Group, LeakCheck>(body);
}

// Polls cond (bounded: 20 s) and reports whether it became true. For "wait
// until N goroutines are blocked on the channel" steps of ordering tests.
template <typename Cond>
bool Eventually(Cond cond) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (sched::InGoroutine()) {
      Gosched();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  return true;
}

// How many goroutines wait to send / receive on ch (test hooks).
template <typename C>
size_t SendWaiters(const C& ch) {
  return chan_internal::Access::Core(ch)->NumSendWaiters();
}
template <typename C>
size_t RecvWaiters(const C& ch) {
  return chan_internal::Access::Core(ch)->NumRecvWaiters();
}

}  // namespace go::chan_testing

#endif  // GO_RUNTIME_CHAN_CHAN_TESTING_H_
