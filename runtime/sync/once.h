// sync.Once: performs an action exactly once.
//
// Do(f) calls f if and only if Do is being called for the first time on this
// Once; every other call, concurrent or later, returns only after that first
// f has returned. If f throws, Do considers it done (as Go's Do does when f
// panics): the exception propagates to the caller whose f threw, and later
// calls return without calling anything.
//
// A bare compare-and-swap is NOT a correct Once:
//     if (done.CAS(0, 1)) f();     // wrong
// It guarantees one call of f, but a second caller that loses the CAS would
// return at once, while the winner is still inside f: it could then use
// what f has not finished setting up. Do's contract is that no call returns
// before f has returned, so losers must wait; hence the mutex on the slow
// path. The fast path (already done) is a single acquire load, inline.
//
// Memory ordering: the return from the one f happens before the return of
// every Do call (Go's memory model), for ThreadSanitizer too: the slow path
// passes through the mutex, and the fast path's acquire load reads the
// release store made after f returned.
//
// OnceFunc and OnceValue (Go 1.21) are in oncefunc.h.
#ifndef GO_RUNTIME_SYNC_ONCE_H_
#define GO_RUNTIME_SYNC_ONCE_H_

#include <atomic>
#include <cstdint>

#include "absl/base/optimization.h"
#include "absl/functional/function_ref.h"
#include "runtime/sync/mutex.h"

namespace go::sync {

class Once {
 public:
  constexpr Once() = default;
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;

  // Do calls f() if this is the first Do on this Once; otherwise waits for
  // the first call to finish and returns. f must not call Do on the same
  // Once (that deadlocks, as in Go).
  template <typename F>
  void Do(F&& f) {
    // Fast path inline: once done, Do is one load.
    if (ABSL_PREDICT_TRUE(done_.load(std::memory_order_acquire) != 0)) return;
    DoSlow(absl::FunctionRef<void()>(f));
  }

 private:
  void DoSlow(absl::FunctionRef<void()> f);

  std::atomic<uint32_t> done_{0};  // set (release) after f returned or threw
  Mutex m_;                        // serializes the first callers
};

}  // namespace go::sync

#endif  // GO_RUNTIME_SYNC_ONCE_H_
