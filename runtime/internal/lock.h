// go::internal::Lock: the spin-then-futex lock that guards the runtime
// packages' own short critical sections: a channel's state (chan, time's
// timer channels), package sync's wait queues (semaphore buckets, notify
// lists, Pool's and Map's locked parts), signal's handler table.
//
// It is not sched::Lock, for ThreadSanitizer's sake: the scheduler is built
// without TSan instrumentation (it switches stacks under TSan's feet), so a
// sched::Lock whose lock() takes its out-of-line slow path would acquire
// nothing TSan can see, and everything it guards (even the lock word, when
// the object is freed) would be reported as racing. This lock is compiled
// into instrumented code wherever it is used, so its release/acquire pairs
// are happens-before edges TSan sees. One more TSan constraint shapes it:
// lock() keeps no CAS `expected` temporary on the stack (exchange only),
// because timer callbacks take channel locks on scheduler stacks, where TSan
// sees no order between successive callbacks reusing the same stack slots.
//
// Use: short, non-blocking critical sections. It blocks the thread (never
// parks a goroutine); hold it across Park only by releasing it in the park
// commit (chan_core.cc's and sema.cc's UnlockCommit).
//
// The slow path is Go's runtime lock (lock_futex.go): a few rounds of active
// spinning, one sched_yield, then the futex; spin again after every wake-up.
//
// Memory ordering: everything before unlock() happens before everything after
// the next lock() returns.
#ifndef GO_RUNTIME_INTERNAL_LOCK_H_
#define GO_RUNTIME_INTERNAL_LOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"
#include "runtime/sched/lock.h"

namespace go::internal {

class ABSL_LOCKABLE Lock {
 public:
  constexpr Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // Fast path inline: one uncontended exchange.
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    const uint32_t was = state_.exchange(1, std::memory_order_acquire);
    if (was != 0) LockSlow(was);
  }
  // Not for timer callbacks (it uses a CAS; see above).
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  void unlock() ABSL_UNLOCK_FUNCTION() {
    if (state_.exchange(0, std::memory_order_release) == 2) sched::FutexWake(&state_, 1);
  }

  // The two halves of unlock() for a park commit under ThreadSanitizer (see
  // sync/sema.cc): ReleaseForTsan publishes the caller's history to the next
  // lock() without unlocking (an RMW that changes nothing), and
  // UnlockUninstrumented unlocks without TSan seeing the access.
  ABSL_ATTRIBUTE_NOINLINE void ReleaseForTsan() { state_.fetch_add(0, std::memory_order_release); }
  __attribute__((no_sanitize("thread"))) void UnlockUninstrumented() ABSL_UNLOCK_FUNCTION() {
    if (state_.exchange(0, std::memory_order_release) == 2) sched::FutexWake(&state_, 1);
  }

 private:
  static constexpr int kSpinRounds = 4;       // Go: active_spin
  static constexpr int kPausesPerRound = 30;  // Go: active_spin_cnt

  // `was`: what the fast path's exchange replaced (1, or 2 if it erased a
  // sleeper's mark, which must be restored).
  ABSL_ATTRIBUTE_NOINLINE void LockSlow(uint32_t was);

  // 0: unlocked, 1: locked, 2: locked and a thread may sleep in the futex.
  std::atomic<uint32_t> state_{0};
};

using LockGuard = sched::LockGuard<Lock>;

}  // namespace go::internal

#endif  // GO_RUNTIME_INTERNAL_LOCK_H_
