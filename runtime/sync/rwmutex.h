// sync.RWMutex: a reader/writer mutual exclusion lock (Go's algorithm).
//
// Any number of readers or one writer may hold it. A writer that calls Lock
// blocks new readers at once (even while the current readers still hold it),
// so a steady stream of readers cannot starve writers; writers queue among
// themselves on an internal Mutex. Consequently recursive read locking is
// forbidden, as in Go: if a reader holds the lock and a writer waits, a
// second RLock by the first reader deadlocks.
//
// Go names (Lock Unlock TryLock RLock RUnlock TryRLock) plus the standard
// SharedLockable names (lock unlock try_lock lock_shared unlock_shared
// try_lock_shared) for std::unique_lock and std::shared_lock. The zero value
// is unlocked. A lock is not tied to a goroutine.
//
// Memory ordering (Go's memory model): the n-th Unlock happens before the
// (n+1)-th Lock returns, and before every RLock that returns after it; for
// every RLock there is an n such that the n-th Unlock happens before that
// RLock returns and the matching RUnlock happens before the (n+1)-th Lock
// returns. ThreadSanitizer sees all of these edges (atomics and Ready).
//
// Misuse throws go::Panic with Go's text: "sync: RUnlock of unlocked RWMutex"
// and "sync: Unlock of unlocked RWMutex". The counters are restored before
// the throw, so a single misuse leaves the lock as it was; misuse racing with
// other operations may still leave it inconsistent (Go makes both fatal).
#ifndef GO_RUNTIME_SYNC_RWMUTEX_H_
#define GO_RUNTIME_SYNC_RWMUTEX_H_

#include <atomic>
#include <cstdint>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "runtime/sync/mutex.h"

namespace go::sync {

class ABSL_LOCKABLE RWMutex {
 public:
  constexpr RWMutex() = default;
  RWMutex(const RWMutex&) = delete;
  RWMutex& operator=(const RWMutex&) = delete;

  // RLock locks rw for reading, blocking while a writer holds or waits for
  // it. Fast path inline: one atomic add.
  void RLock() ABSL_SHARED_LOCK_FUNCTION() {
    if (ABSL_PREDICT_FALSE(reader_count_.fetch_add(1, std::memory_order_acquire) < 0)) {
      RLockSlow();  // a writer is pending
    }
  }

  // RUnlock undoes one RLock. Throws go::Panic("sync: RUnlock of unlocked
  // RWMutex") if rw is not read-locked.
  void RUnlock() ABSL_UNLOCK_FUNCTION() {
    int32_t r = reader_count_.fetch_sub(1, std::memory_order_release) - 1;
    if (ABSL_PREDICT_FALSE(r < 0)) RUnlockSlow(r);
  }

  // TryRLock read-locks rw if no writer holds or waits for it; reports
  // whether it did. Never blocks.
  bool TryRLock() ABSL_SHARED_TRYLOCK_FUNCTION(true);

  // Lock locks rw for writing, blocking until no reader or writer holds it.
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION();

  // TryLock write-locks rw if nobody holds it; reports whether it did.
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true);

  // Unlock unlocks rw for writing and admits the readers that queued behind
  // the writer. Throws go::Panic("sync: Unlock of unlocked RWMutex") if rw is
  // not write-locked.
  void Unlock() ABSL_UNLOCK_FUNCTION();

  // Standard names for std::unique_lock / std::shared_lock.
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { Lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { Unlock(); }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return TryLock(); }
  void lock_shared() ABSL_SHARED_LOCK_FUNCTION() { RLock(); }
  void unlock_shared() ABSL_UNLOCK_FUNCTION() { RUnlock(); }
  bool try_lock_shared() ABSL_SHARED_TRYLOCK_FUNCTION(true) { return TryRLock(); }

 private:
  // reader_count_ counts readers that hold or wait for the lock; a writer
  // subtracts kMaxReaders from it to announce itself, so negative means
  // "writer pending or active". reader_wait_ counts the readers the pending
  // writer must still wait for.
  static constexpr int32_t kMaxReaders = 1 << 30;

  void RLockSlow();
  void RUnlockSlow(int32_t r);

  Mutex w_;                              // held by the pending/active writer
  std::atomic<uint32_t> writer_sem_{0};  // the writer waits here for readers
  std::atomic<uint32_t> reader_sem_{0};  // readers wait here for the writer
  std::atomic<int32_t> reader_count_{0};
  std::atomic<int32_t> reader_wait_{0};
};

}  // namespace go::sync

#endif  // GO_RUNTIME_SYNC_RWMUTEX_H_
