// sync.WaitGroup slow paths (waitgroup.h has the contract).
//
// Invariants:
//   [zero]   Once the counter reaches zero with waiters, the Add that made it
//            zero owns the state: it resets the whole word to 0 and releases
//            the semaphore once per waiter. Meanwhile nobody else may change
//            the word: Adds must not run concurrently with Wait, and Wait
//            does not count itself in when it sees a zero counter.
//   [waiter] The waiter count only grows while the counter is positive.
#include "runtime/panic.h"
#include "runtime/sched/sched.h"
#include "runtime/sync/sema.h"
#include "runtime/sync/waitgroup.h"

namespace go::sync {

void WaitGroup::AddSlow(int delta, uint64_t state) {
  const int32_t v = static_cast<int32_t>(state >> 32);
  uint32_t w = static_cast<uint32_t>(state);
  if (v < 0) {
    // Restore the counter so the WaitGroup stays usable after the report.
    state_.fetch_sub(static_cast<uint64_t>(static_cast<int64_t>(delta)) << 32,
                     std::memory_order_relaxed);
    throw Panic("sync: negative WaitGroup counter");
  }
  if (w != 0 && delta > 0 && v == delta) {
    // The counter went from 0 to positive while a waiter is counted: the
    // Add raced with a Wait that is being released [zero].
    throw Panic("sync: WaitGroup misuse: Add called concurrently with Wait");
  }
  if (v > 0 || w == 0) return;
  // We set the counter to 0 while there are waiters [zero]. A cheap sanity
  // check for misuse, then wake them all.
  if (state_.load(std::memory_order_relaxed) != state) {
    throw Panic("sync: WaitGroup misuse: Add called concurrently with Wait");
  }
  state_.store(0, std::memory_order_release);
  for (; w != 0; w--) internal::Semrelease(&sema_, false);
}

void WaitGroup::WaitSlow() {
  sched::MaybePreempt();
  uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if ((s >> 32) == 0) return;  // counter is zero: nothing to wait for
    // Count ourselves in as a waiter [waiter].
    if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      internal::Semacquire(&sema_, false, sched::WaitReason::kWaitGroupWait);
      if (state_.load(std::memory_order_acquire) != 0) {
        throw Panic("sync: WaitGroup is reused before previous Wait has returned");
      }
      return;
    }
  }
}

}  // namespace go::sync
