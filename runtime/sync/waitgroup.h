// sync.WaitGroup: waits for a collection of goroutines to finish.
//
// Add(n) before starting work, Done() when each piece finishes, Wait() to
// block until the counter is zero. Go(f) does all three bookkeeping steps
// for one goroutine: Add(1), start f on a new goroutine, Done() when f
// returns (Go 1.25's WaitGroup.Go).
//
// The counter and the number of waiters share one 64-bit atomic word (Go's
// packed state: counter in the high 32 bits, waiters in the low 32), so Add
// and an uncontended Wait are one atomic operation each; waiters sleep on a
// runtime semaphore (sema.h).
//
// Rules (Go's): Adds with a positive delta that start when the counter is
// zero must happen before Wait; if a WaitGroup is reused, the new Adds must
// happen after all previous Waits returned.
//
// Memory ordering: every Done (any Add) happens before the Wait that it
// unblocks returns; i.e. everything a worker did before Done is visible to
// the goroutine whose Wait returned. ThreadSanitizer sees it.
//
// Misuse throws go::Panic with Go's text:
//   "sync: negative WaitGroup counter"  (the counter is restored first)
//   "sync: WaitGroup is reused before previous Wait has returned"
//   "sync: WaitGroup misuse: Add called concurrently with Wait"
#ifndef GO_RUNTIME_SYNC_WAITGROUP_H_
#define GO_RUNTIME_SYNC_WAITGROUP_H_

#include <atomic>
#include <cstdint>
#include <source_location>
#include <type_traits>
#include <utility>

#include "absl/base/optimization.h"
#include "runtime/goroutine.h"

namespace go::sync {

class WaitGroup {
 public:
  constexpr WaitGroup() = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  // Add adds delta (may be negative) to the counter; when it reaches zero,
  // every goroutine blocked in Wait is released. Fast path inline.
  void Add(int delta) {
    const uint64_t s =
        state_.fetch_add(static_cast<uint64_t>(static_cast<int64_t>(delta)) << 32,
                         std::memory_order_acq_rel) +
        (static_cast<uint64_t>(static_cast<int64_t>(delta)) << 32);
    const int32_t v = static_cast<int32_t>(s >> 32);
    const uint32_t w = static_cast<uint32_t>(s);
    // Common cases: counter still positive and no misuse to report; or the
    // counter hit zero with nobody waiting.
    if (ABSL_PREDICT_TRUE((v > 0 && (w == 0 || delta <= 0 || v != delta)) || s == 0)) return;
    AddSlow(delta, s);
  }

  // Done decrements the counter by one.
  void Done() { Add(-1); }

  // Wait blocks until the counter is zero.
  void Wait() {
    if (ABSL_PREDICT_TRUE((state_.load(std::memory_order_acquire) >> 32) == 0)) return;
    WaitSlow();
  }

  // Go calls Add(1), runs f on a new goroutine, and calls Done when f
  // returns. (An exception escaping f ends the process, like any goroutine
  // panic.)
  template <typename F>
  void Go(F&& f, std::source_location where = std::source_location::current()) {
    Add(1);
    go::Go(
        [this, fn = std::forward<F>(f)]() mutable {
          struct DoneOnExit {
            WaitGroup* wg;
            ~DoneOnExit() { wg->Done(); }
          } done{this};
          fn();
        },
        where);
  }

 private:
  void AddSlow(int delta, uint64_t state);
  void WaitSlow();

  std::atomic<uint64_t> state_{0};  // counter << 32 | waiters
  std::atomic<uint32_t> sema_{0};
};

}  // namespace go::sync

#endif  // GO_RUNTIME_SYNC_WAITGROUP_H_
