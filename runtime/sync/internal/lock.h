// sync::internal::Lock: the lock that guards package sync's own wait queues
// (semaphore buckets, notify lists, Pool's and Map's locked parts). It is the
// runtime's instrumented lock, runtime/internal/lock.h, which says why it is
// not sched::Lock and what its ordering is.
#ifndef GO_RUNTIME_SYNC_INTERNAL_LOCK_H_
#define GO_RUNTIME_SYNC_INTERNAL_LOCK_H_

#include "runtime/internal/lock.h"

namespace go::sync::internal {

using Lock = ::go::internal::Lock;
using LockGuard = ::go::internal::LockGuard;

}  // namespace go::sync::internal

#endif  // GO_RUNTIME_SYNC_INTERNAL_LOCK_H_
