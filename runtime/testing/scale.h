// Small helpers every runtime test suite shares.
//
//   kScale      divides iteration counts under the sanitizers (TSan and ASan
//               make each goroutine and each synchronisation ~10-100x dearer;
//               the interleavings, not the counts, are what they check).
//   ProcsScope  sets GOMAXPROCS for a scope and restores the old value.
//   RunEverywhereWith<Joiner, LeakCheck>(body)
//               runs body at GOMAXPROCS 1, 2 and 4, each time on the calling
//               (plain) thread and then inside a goroutine started and joined
//               by a Joiner (Go(fn), Wait()), under one LeakCheck. Each
//               package's test helpers pick the joiner their tests may rely
//               on (the channel tests join through a channel, not a
//               WaitGroup) and the leaks they check.
#ifndef GO_RUNTIME_TESTING_SCALE_H_
#define GO_RUNTIME_TESTING_SCALE_H_

#include <functional>
#include <string>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"

namespace go::testutil {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr int kScale = 10;
#else
inline constexpr int kScale = 1;
#endif

class ProcsScope {
 public:
  explicit ProcsScope(int n) : old_(GOMAXPROCS(n)) {}
  ~ProcsScope() { GOMAXPROCS(old_); }
  ProcsScope(const ProcsScope&) = delete;
  ProcsScope& operator=(const ProcsScope&) = delete;

 private:
  int old_;
};

template <typename Joiner, typename LeakCheck>
void RunEverywhereWith(const std::function<void()>& body) {
  LeakCheck leaks;
  for (int procs : {1, 2, 4}) {
    ProcsScope scope(procs);
    {
      SCOPED_TRACE("GOMAXPROCS=" + std::to_string(procs) + " on the test thread");
      body();
    }
    {
      SCOPED_TRACE("GOMAXPROCS=" + std::to_string(procs) + " in a goroutine");
      Joiner j;
      j.Go([&body] { body(); });
      j.Wait();
    }
  }
}

}  // namespace go::testutil

#endif  // GO_RUNTIME_TESTING_SCALE_H_
