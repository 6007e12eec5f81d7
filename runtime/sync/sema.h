// The runtime semaphore and notify list: how package sync's primitives sleep
// and wake (Go's runtime/sema.go).
//
//   Semacquire / Semrelease   a counting semaphore on any uint32 word,
//                             with FIFO or LIFO queueing and direct hand-off
//   NotifyList                a ticket-based wait list (sync.Cond's core)
//
// Despite the name, think of Semacquire/Semrelease as sleep and wakeup
// (Mullender and Cox, "Semaphores in Plan 9"): every sleep is paired with one
// wakeup, even if the wakeup comes first. The word itself lives in the
// caller's object (a Mutex's sema field); the waiters live in a global table
// of 251 buckets keyed by the word's address, so a Mutex costs no more than
// its two words. Waiters sit on their own stacks (no allocation) in a per-
// address FIFO list hung off a treap of distinct addresses in each bucket,
// so many blocked addresses that collide in one bucket stay O(log n).
//
// Goroutines park (sched::Park); plain threads sleep on their futex through
// the same call, so all of this works from any thread.
//
// Memory ordering: a Semrelease that increments the count happens before the
// Semacquire that consumes that unit returns (for ThreadSanitizer too: the
// count is an atomic, and a woken waiter resumes after Ready's edge). The
// same holds for NotifyOne/NotifyAll and the Wait they end.
#ifndef GO_RUNTIME_SYNC_SEMA_H_
#define GO_RUNTIME_SYNC_SEMA_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <source_location>

#include "absl/base/thread_annotations.h"
#include "runtime/sched/g.h"
#include "runtime/sync/internal/lock.h"

namespace go::sync::internal {

// Semacquire waits until *sema > 0 and then atomically decrements it. lifo
// queues the caller at the head of the address's wait list instead of the
// tail (a Mutex waiter that already waited once). `reason` is what goroutine
// dumps show. If a Semrelease hands off its unit to this waiter, the waiter
// returns owning it without touching *sema.
void Semacquire(std::atomic<uint32_t>* sema, bool lifo = false,
                sched::WaitReason reason = sched::WaitReason::kSemacquire,
                std::source_location where = std::source_location::current());

// Semrelease atomically increments *sema and wakes the first waiter on it, if
// any. With handoff, the unit is passed straight to that waiter (it cannot be
// stolen by a running goroutine in between) and a calling goroutine yields
// its P so the waiter runs at once (Go's starvation-mode hand-off).
void Semrelease(std::atomic<uint32_t>* sema, bool handoff = false);

// Diagnostic: the number of goroutines and threads queued on sema right now.
size_t SemaWaiters(const std::atomic<uint32_t>* sema);

// A ticket-based notification list (Go's notifyList). A waiter takes a
// ticket with Add (cheap, lock-free: done while the caller still holds its
// Cond's mutex), drops its lock, then Wait(ticket) sleeps unless a notify
// already covered the ticket. NotifyOne wakes the oldest unnotified ticket;
// NotifyAll wakes every ticket taken so far. Tickets wrap around safely as
// long as fewer than 2^31 waiters are outstanding.
class NotifyList {
 public:
  constexpr NotifyList() = default;
  NotifyList(const NotifyList&) = delete;
  NotifyList& operator=(const NotifyList&) = delete;

  uint32_t Add() { return wait_.fetch_add(1, std::memory_order_seq_cst); }
  void Wait(uint32_t ticket, sched::WaitReason reason,
            std::source_location where = std::source_location::current());
  void NotifyOne();
  void NotifyAll();

 private:
  struct Waiter;
  // The next ticket to hand out; incremented without the lock.
  std::atomic<uint32_t> wait_{0};
  // The next ticket to notify; written under lock_, read without it.
  std::atomic<uint32_t> notify_{0};
  Lock lock_;
  Waiter* head_ ABSL_GUARDED_BY(lock_) = nullptr;
  Waiter* tail_ ABSL_GUARDED_BY(lock_) = nullptr;
};

}  // namespace go::sync::internal

#endif  // GO_RUNTIME_SYNC_SEMA_H_
