// sync.Cond: a condition variable on a go::sync::Mutex.
//
// Wait atomically unlocks the mutex and suspends the caller; when woken by
// Signal or Broadcast it locks the mutex again before returning. Because
// nothing guarantees the condition still holds when Wait returns (another
// goroutine may have run first), call it in a loop:
//     mu.Lock();
//     while (!condition()) cond.Wait();
//     ... use the condition ...
//     mu.Unlock();
// Signal wakes the longest-waiting goroutine, Broadcast wakes all of them;
// neither requires holding the mutex. Wakeups are never spurious here, but
// correct code should not rely on that.
//
// Built on the runtime's ticket-based notify list (sema.h), as in Go: Wait
// takes a ticket while it still holds the mutex, so a Signal issued after the
// mutex is released cannot be lost, and waiters are woken in ticket order.
//
// Memory ordering: a Signal or Broadcast happens before the return of each
// Wait call it unblocks (Go's memory model). In practice the mutex gives the
// stronger guarantee that users need: whatever the signaller did under the
// mutex is visible to the woken waiter once it holds the mutex again.
#ifndef GO_RUNTIME_SYNC_COND_H_
#define GO_RUNTIME_SYNC_COND_H_

#include "runtime/sync/mutex.h"
#include "runtime/sync/sema.h"

namespace go::sync {

class Cond {
 public:
  // The Cond uses m, which must outlive it.
  explicit Cond(Mutex& m) : l_(&m) {}
  Cond(const Cond&) = delete;
  Cond& operator=(const Cond&) = delete;

  // Wait unlocks L(), waits for a Signal or Broadcast, and locks L() again.
  // The caller must hold L() (otherwise Unlock panics).
  void Wait();
  // Signal wakes one waiting goroutine, if there is any.
  void Signal() { notify_.NotifyOne(); }
  // Broadcast wakes all waiting goroutines.
  void Broadcast() { notify_.NotifyAll(); }

  // L is the mutex held while observing or changing the condition.
  Mutex& L() const { return *l_; }

 private:
  Mutex* l_;
  internal::NotifyList notify_;
};

}  // namespace go::sync

#endif  // GO_RUNTIME_SYNC_COND_H_
