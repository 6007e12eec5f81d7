// internal::Lock: the spin-then-futex lock that guards package sync's own
// wait queues (semaphore buckets, notify lists, Pool's locked list).
//
// It is sched::Lock's algorithm, compiled here rather than in the scheduler
// because of ThreadSanitizer: the scheduler is built without TSan
// instrumentation, so a sched::Lock acquisition that takes its out-of-line
// slow path acquires nothing as far as TSan knows, and fields guarded by it
// would look racy. This copy is instrumented wherever it is used.
//
// Use it like sched::Lock: short, non-blocking critical sections; it blocks
// the thread (never parks a goroutine); never hold it across Park except by
// releasing it in the park commit (sema.cc's UnlockCommit shows how).
//
// Memory ordering: everything done before unlock() happens before everything
// done after the next lock() returns (TSan sees it: the lock word is an
// atomic with release/acquire operations).
#ifndef GO_RUNTIME_SYNC_INTERNAL_LOCK_H_
#define GO_RUNTIME_SYNC_INTERNAL_LOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"
#include "runtime/sched/lock.h"

namespace go::sync::internal {

class ABSL_LOCKABLE Lock {
 public:
  constexpr Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // Fast path inline: one uncontended CAS.
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    uint32_t expected = 0;
    if (state_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
    LockSlow();
  }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  void unlock() ABSL_UNLOCK_FUNCTION() {
    if (state_.exchange(0, std::memory_order_release) == 2) sched::FutexWake(&state_, 1);
  }

  // The two halves of unlock() for a park commit under ThreadSanitizer (see
  // sema.cc): ReleaseForTsan publishes the caller's history to the next
  // lock() without unlocking (an RMW that changes nothing), and
  // UnlockUninstrumented unlocks without TSan seeing the access.
  ABSL_ATTRIBUTE_NOINLINE void ReleaseForTsan() {
    state_.fetch_add(0, std::memory_order_release);
  }
  __attribute__((no_sanitize("thread"))) void UnlockUninstrumented() ABSL_UNLOCK_FUNCTION() {
    if (state_.exchange(0, std::memory_order_release) == 2) sched::FutexWake(&state_, 1);
  }

 private:
  ABSL_ATTRIBUTE_NOINLINE void LockSlow() {
    // Spin briefly: the critical sections are a few dozen instructions.
    for (int i = 0; i < 100; ++i) {
      if (state_.load(std::memory_order_relaxed) == 0) {
        uint32_t expected = 0;
        if (state_.compare_exchange_weak(expected, 1, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
          return;
        }
      }
      sched::CpuRelax();
    }
    // Sleep: mark the lock contended (2) so that unlock() wakes us.
    while (state_.exchange(2, std::memory_order_acquire) != 0) sched::FutexWait(&state_, 2);
  }

  // 0: unlocked, 1: locked, 2: locked and a thread may sleep in the futex.
  std::atomic<uint32_t> state_{0};
};

class ABSL_SCOPED_LOCKABLE LockGuard {
 public:
  explicit LockGuard(Lock& l) ABSL_EXCLUSIVE_LOCK_FUNCTION(l) : l_(l) { l_.lock(); }
  ~LockGuard() ABSL_UNLOCK_FUNCTION() { l_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Lock& l_;
};

}  // namespace go::sync::internal

#endif  // GO_RUNTIME_SYNC_INTERNAL_LOCK_H_
