// sync.Mutex: a mutual exclusion lock with Go's two modes (normal and
// starvation), built on the runtime semaphore (sema.h).
//
// Lock/Unlock/TryLock are Go's; lock/unlock/try_lock make Mutex a standard
// Lockable, so std::lock_guard, std::unique_lock and std::scoped_lock work.
// The zero value (a default-constructed Mutex) is unlocked. A Mutex is not
// tied to a goroutine: one goroutine (or thread) may Lock it and another
// Unlock it. It is not recursive: locking it twice from one goroutine
// deadlocks, as in Go.
//
// Fairness (Go's design; docs/runtime/sync.md has the state table):
//   Normal mode: waiters queue FIFO, but a woken waiter does not own the
//   mutex; it competes with goroutines that are running right now (and may
//   spin briefly on a multicore machine). Newcomers usually win, which keeps
//   throughput high; a woken waiter that loses is requeued at the FRONT.
//   Starvation mode: entered when a waiter has waited more than 1 ms
//   (sched::Nanotime, so virtual time in a synctest bubble). Unlock hands
//   the mutex directly to the first waiter; newcomers neither grab it nor
//   spin, they queue at the back. The mode ends when a waiter that receives
//   the mutex is the last one queued or waited less than 1 ms.
//
// Memory ordering: for any goroutines X and Y, if X's n-th call of Unlock
// returns and Y's m-th Lock (n < m) then returns, everything X did before
// Unlock happens before everything Y does after Lock. A successful TryLock
// counts as a Lock. ThreadSanitizer sees these edges (the state word is an
// atomic; a hand-off also passes through Ready).
//
// Misuse: Unlock of an unlocked Mutex throws
// go::Panic("sync: unlock of unlocked mutex") after undoing its change to the
// state word, so a lone misuse leaves the Mutex usable; a misuse racing with
// other Lock calls may still leave it inconsistent (Go makes this a fatal
// error).
#ifndef GO_RUNTIME_SYNC_MUTEX_H_
#define GO_RUNTIME_SYNC_MUTEX_H_

#include <atomic>
#include <cstdint>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"

namespace go::sync {

class ABSL_LOCKABLE Mutex {
 public:
  constexpr Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Lock locks m, blocking (parking the goroutine, or sleeping the thread)
  // until it is available. Fast path inline: one CAS on an unlocked mutex.
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    int32_t old = 0;
    if (ABSL_PREDICT_TRUE(state_.compare_exchange_strong(old, kLocked, std::memory_order_acquire,
                                                         std::memory_order_relaxed))) {
      return;
    }
    LockSlow();
  }

  // Unlock unlocks m. Fast path inline: one atomic subtract; the slow path
  // runs only if someone waits. Throws go::Panic("sync: unlock of unlocked
  // mutex") if m is not locked.
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    // An atomic add rather than a CAS from kLocked: when others wait and one
    // is already awake (the common contended state), this is the only atomic
    // operation Unlock needs.
    const int32_t now = state_.fetch_sub(kLocked, std::memory_order_release) - kLocked;
    if (ABSL_PREDICT_FALSE(now != 0)) UnlockSlow(now);
  }

  // TryLock locks m if it is free right now and reports whether it did. It
  // never blocks; in starvation mode it fails (the mutex belongs to the
  // queue). As in Go, correct uses of TryLock are rare.
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    int32_t old = state_.load(std::memory_order_relaxed);
    if (old & (kLocked | kStarving)) return false;
    // Waiters may be queued, but we are running and may take it first.
    return state_.compare_exchange_strong(old, old | kLocked, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

  // Standard Lockable names, for std::lock_guard / unique_lock / scoped_lock.
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { Lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { Unlock(); }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return TryLock(); }

  // Diagnostics only (tests, dumps): a racy snapshot of the state word,
  // stale as soon as it returns. Never base synchronization on them.
  // Starving reports whether the mutex is in starvation mode.
  bool Starving() const { return state_.load(std::memory_order_relaxed) & kStarving; }
  // Waiters reports how many goroutines/threads are counted as waiting.
  int Waiters() const { return state_.load(std::memory_order_relaxed) >> kWaiterShift; }

 private:
  friend class RWMutex;

  // State word (Go's layout): bit 0 locked, bit 1 woken (a goroutine is
  // awake and about to try, so Unlock need not wake another), bit 2
  // starving, bits 3.. the number of queued waiters.
  static constexpr int32_t kLocked = 1;
  static constexpr int32_t kWoken = 2;
  static constexpr int32_t kStarving = 4;
  static constexpr int kWaiterShift = 3;
  static constexpr int32_t kWaiter = 1 << kWaiterShift;

  void LockSlow();
  void UnlockSlow(int32_t now);

  std::atomic<int32_t> state_{0};
  std::atomic<uint32_t> sema_{0};
};

}  // namespace go::sync

#endif  // GO_RUNTIME_SYNC_MUTEX_H_
