// sync.Mutex slow paths (mutex.h has the fast paths and the contract).
//
// Invariants on the state word (see mutex.h for the bit layout):
//   [count]   The waiter count equals the number of goroutines that counted
//             themselves in (by the CAS before Semacquire) and have not been
//             taken out again by a waking Unlock (normal mode) or by the
//             hand-off fix-up in LockSlow (starvation mode).
//   [woken]   kWoken is set by at most one goroutine at a time: a spinner
//             that claimed it, or an Unlock that dequeued a waiter for a
//             normal-mode wakeup. Whoever set it (or the waiter it woke)
//             clears it on its next successful CAS. While it is set, Unlock
//             wakes nobody.
//   [starve]  kStarving is set only while the mutex is locked and someone
//             waits, and is cleared only by a waiter that received the mutex
//             by hand-off. While it is set, kLocked may be clear in the gap
//             between a hand-off Unlock and the receiver's fix-up: the mutex
//             still belongs to the receiver, and nobody else may take it.
#include <cstdint>

#include "runtime/panic.h"
#include "runtime/sched/sched.h"
#include "runtime/sync/mutex.h"
#include "runtime/sync/sema.h"

namespace go::sync {
namespace {

// A waiter that waited longer than this switches the mutex to starvation mode.
constexpr int64_t kStarvationThresholdNs = 1000 * 1000;  // 1 ms

[[noreturn]] void Inconsistent() { sched::Fatal("sync: inconsistent mutex state"); }

}  // namespace

void Mutex::LockSlow() {
  sched::MaybePreempt();
  int64_t wait_start = 0;  // when we first queued (0: never)
  bool starving = false;   // we have waited too long
  bool awoke = false;      // we hold kWoken [woken]
  int iter = 0;
  int32_t old = state_.load(std::memory_order_relaxed);
  for (;;) {
    // Spin only in normal mode while someone holds the lock: in starvation
    // mode the mutex goes to the queue, so spinning could never win it.
    if ((old & (kLocked | kStarving)) == kLocked && sched::CanSpin(iter)) {
      // Claim kWoken so that Unlock does not wake a sleeper we would only
      // compete with.
      if (!awoke && !(old & kWoken) && (old >> kWaiterShift) != 0 &&
          state_.compare_exchange_strong(old, old | kWoken, std::memory_order_relaxed)) {
        awoke = true;
      }
      sched::DoSpin();
      iter++;
      old = state_.load(std::memory_order_relaxed);
      continue;
    }
    int32_t next = old;
    // A starving mutex belongs to the queue: newcomers must not take it.
    if (!(old & kStarving)) next |= kLocked;
    if (old & (kLocked | kStarving)) next += kWaiter;
    // Switch to starvation mode, but only if the mutex is locked: Unlock
    // expects a starving mutex to have waiters [starve].
    if (starving && (old & kLocked)) next |= kStarving;
    if (awoke) {
      // We were woken (or claimed kWoken while spinning): reset it either way.
      if (!(next & kWoken)) Inconsistent();
      next &= ~kWoken;
    }
    if (!state_.compare_exchange_strong(old, next, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
      continue;  // old now holds the fresh state
    }
    if (!(old & (kLocked | kStarving))) return;  // we locked it with the CAS
    // Queue. A waiter that already waited goes to the front (LIFO): it was
    // woken and lost the race to a running goroutine, and should not lose
    // its place to goroutines that arrived after it.
    const bool lifo = wait_start != 0;
    if (wait_start == 0) wait_start = sched::Nanotime();
    internal::Semacquire(&sema_, lifo, sched::WaitReason::kMutexLock);
    starving = starving || sched::Nanotime() - wait_start > kStarvationThresholdNs;
    old = state_.load(std::memory_order_relaxed);
    if (old & kStarving) {
      // Starvation mode: Unlock handed the mutex to us. kLocked is clear and
      // we are still counted as a waiter [count, starve]: fix both.
      if ((old & (kLocked | kWoken)) || (old >> kWaiterShift) == 0) Inconsistent();
      int32_t delta = kLocked - kWaiter;
      if (!starving || (old >> kWaiterShift) == 1) {
        // Leave starvation mode if our wait was short or nobody is left.
        // Deciding here, with our own wait time, matters: starvation mode is
        // so slow that two goroutines could otherwise hand the mutex back
        // and forth in it forever.
        delta -= kStarving;
      }
      state_.fetch_add(delta, std::memory_order_acq_rel);
      return;
    }
    awoke = true;  // a normal-mode Unlock set kWoken for us [woken]
    iter = 0;
  }
}

void Mutex::UnlockSlow(int32_t now) {
  // `now` is the state right after our subtract.
  if (((now + kLocked) & kLocked) == 0) {
    state_.fetch_add(kLocked, std::memory_order_relaxed);  // undo, then report
    throw Panic("sync: unlock of unlocked mutex");
  }
  if (now & kStarving) {
    // Starvation mode: hand the mutex to the first waiter. kLocked stays
    // clear until the waiter sets it, but kStarving keeps newcomers out
    // meanwhile [starve].
    internal::Semrelease(&sema_, /*handoff=*/true);
    return;
  }
  int32_t old = now;
  for (;;) {
    // Wake nobody if nobody waits, or if a goroutine is already awake and
    // trying [woken], or if someone has locked the mutex since (it will wake
    // a waiter when it unlocks). We did not see kStarving when we unlocked,
    // so a hand-off chain that began since is not ours to serve.
    if ((old >> kWaiterShift) == 0 || (old & (kLocked | kWoken | kStarving)) != 0) return;
    // Take the right to wake one: it competes for the mutex, not owns it.
    if (state_.compare_exchange_weak(old, (old - kWaiter) | kWoken, std::memory_order_release,
                                     std::memory_order_relaxed)) {
      internal::Semrelease(&sema_, /*handoff=*/false);
      return;
    }
  }
}

}  // namespace go::sync
