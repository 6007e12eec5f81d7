// internal::Lock: the runtime spin lock (sched::Lock) with a happens-before
// edge that ThreadSanitizer can see on every acquisition.
//
// sched::Lock's contended path lives in the scheduler, which is compiled
// without TSan instrumentation, so a Lock() that had to wait acquires
// nothing as far as TSan knows: fields guarded by the lock would then look
// racy to it. This wrapper adds one instrumented release (before unlocking)
// and one instrumented acquire (after locking) on an atomic of its own. In
// builds without TSan both are compiled out.
//
// Use it exactly like sched::Lock: short, non-blocking critical sections; it
// blocks the thread (never parks a goroutine); never hold it across Park
// except by releasing it in the park commit (Unlock is callable from there).
//
// Memory ordering: everything done before unlock() happens before everything
// done after the next lock() returns.
#ifndef GO_RUNTIME_SYNC_INTERNAL_LOCK_H_
#define GO_RUNTIME_SYNC_INTERNAL_LOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "runtime/sched/lock.h"
#include "runtime/sched/sanitizers.h"

namespace go::sync::internal {

class ABSL_LOCKABLE Lock {
 public:
  constexpr Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    l_.lock();
#ifdef GO_TSAN
    (void)edge_.load(std::memory_order_acquire);
#endif
  }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    if (!l_.try_lock()) return false;
#ifdef GO_TSAN
    (void)edge_.load(std::memory_order_acquire);
#endif
    return true;
  }
  void unlock() ABSL_UNLOCK_FUNCTION() {
#ifdef GO_TSAN
    edge_.store(edge_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
#endif
    l_.unlock();
  }

 private:
  sched::Lock l_;
#ifdef GO_TSAN
  std::atomic<uint32_t> edge_{0};
#endif
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
