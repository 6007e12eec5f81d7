// Low-level synchronization for the runtime's own data structures.
//
//   Futex*     thin wrappers over the futex(2) system call.
//   Lock       a spin-then-futex mutex for short runtime critical sections.
//              It blocks the OS thread, never parks a goroutine, so it is safe
//              on the scheduler stack (g0), in timer callbacks and inside
//              channel and semaphore code. Never hold it across a park.
//   Note       a one-shot sleep/wakeup event for one thread (Go's `note`).
//
// Memory ordering: Unlock() releases and Lock() acquires, so everything done
// under a Lock is visible to the next holder (ThreadSanitizer sees the atomics).
#ifndef GO_RUNTIME_SCHED_LOCK_H_
#define GO_RUNTIME_SCHED_LOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"

namespace go::sched {

// Waits while *addr == expected, for at most timeout_ns (< 0: forever).
void FutexWait(std::atomic<uint32_t>* addr, uint32_t expected, int64_t timeout_ns = -1);
void FutexWake(std::atomic<uint32_t>* addr, int count);

inline void CpuRelax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

class ABSL_LOCKABLE Lock {
 public:
  constexpr Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // Fast path inline: one uncontended CAS. The slow path spins, then sleeps.
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    uint32_t expected = 0;
    if (state_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
    LockSlow();
  }
  void unlock() ABSL_UNLOCK_FUNCTION() {
    if (state_.exchange(0, std::memory_order_release) == 2) FutexWake(&state_, 1);
  }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

 private:
  void LockSlow();
  // 0: unlocked, 1: locked, 2: locked and someone may sleep in the futex.
  std::atomic<uint32_t> state_{0};
};

// Scoped hold of a Lock, or of any lock with lock()/unlock() (the runtime
// packages' instrumented lock, runtime/internal/lock.h, uses it too):
// `LockGuard g(mu);` deduces the type.
template <typename L>
class ABSL_SCOPED_LOCKABLE LockGuard {
 public:
  explicit LockGuard(L& l) ABSL_EXCLUSIVE_LOCK_FUNCTION(l) : l_(l) { l_.lock(); }
  ~LockGuard() ABSL_UNLOCK_FUNCTION() { l_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  L& l_;
};

// One sleeper, one waker; Wakeup before Sleep makes Sleep return at once.
class Note {
 public:
  // Returns true if woken, false on timeout. Clears the note either way.
  bool Sleep(int64_t timeout_ns = -1);
  void Wakeup();
  void Clear() { key_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint32_t> key_{0};
};

}  // namespace go::sched

#endif  // GO_RUNTIME_SCHED_LOCK_H_
