// sync.RWMutex slow paths and writer side (rwmutex.h has the contract).
//
// Invariants:
//   [count]  reader_count_ = (readers holding or waiting) - (kMaxReaders if a
//            writer is pending or active). So it is negative exactly while a
//            writer is announced, and new readers then queue on reader_sem_.
//   [wait]   While a writer is announced and waits, reader_wait_ counts the
//            readers that held the lock when it announced and have not yet
//            left; the one that brings it to zero releases writer_sem_.
//   [admit]  Unlock releases reader_sem_ once per reader that queued behind
//            the writer (the count it reads back when it un-announces).
#include "runtime/panic.h"
#include "runtime/sched/sched.h"
#include "runtime/sync/rwmutex.h"
#include "runtime/sync/sema.h"

namespace go::sync {

void RWMutex::RLockSlow() {
  // A writer is pending [count]: wait for its Unlock to admit us [admit].
  sched::MaybePreempt();
  internal::Semacquire(&reader_sem_, false, sched::WaitReason::kRWMutexRLock);
}

void RWMutex::RUnlockSlow(int32_t r) {
  if (r + 1 == 0 || r + 1 == -kMaxReaders) {
    reader_count_.fetch_add(1, std::memory_order_relaxed);  // undo, then report
    throw Panic("sync: RUnlock of unlocked RWMutex");
  }
  // A writer is pending: the last departing reader lets it in [wait].
  if (reader_wait_.fetch_sub(1, std::memory_order_acq_rel) - 1 == 0) {
    internal::Semrelease(&writer_sem_, false);
  }
}

bool RWMutex::TryRLock() {
  int32_t c = reader_count_.load(std::memory_order_relaxed);
  while (c >= 0) {
    if (reader_count_.compare_exchange_weak(c, c + 1, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void RWMutex::Lock() {
  // First, resolve competition with other writers.
  w_.Lock();
  // Announce the writer [count]; r is the number of active readers.
  const int32_t r = reader_count_.fetch_sub(kMaxReaders, std::memory_order_acq_rel);
  // Wait for them, unless they all left already (each departing reader has
  // decremented reader_wait_ below zero, and adding r brings it back to 0).
  if (r != 0 && reader_wait_.fetch_add(r, std::memory_order_acq_rel) + r != 0) {
    sched::MaybePreempt();
    internal::Semacquire(&writer_sem_, false, sched::WaitReason::kRWMutexLock);
  }
}

bool RWMutex::TryLock() {
  if (!w_.TryLock()) return false;
  int32_t zero = 0;
  if (!reader_count_.compare_exchange_strong(zero, -kMaxReaders, std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
    w_.Unlock();
    return false;
  }
  return true;
}

void RWMutex::Unlock() {
  // Un-announce the writer; r readers queued behind it [admit].
  const int32_t r = reader_count_.fetch_add(kMaxReaders, std::memory_order_acq_rel) + kMaxReaders;
  if (r >= kMaxReaders) {
    reader_count_.fetch_sub(kMaxReaders, std::memory_order_relaxed);  // undo, then report
    throw Panic("sync: Unlock of unlocked RWMutex");
  }
  for (int32_t i = 0; i < r; i++) internal::Semrelease(&reader_sem_, false);
  // Allow other writers to proceed.
  w_.Unlock();
}

}  // namespace go::sync
