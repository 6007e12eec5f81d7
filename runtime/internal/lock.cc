#include "runtime/internal/lock.h"

#include <sched.h>

namespace go::internal {

void Lock::LockSlow(uint32_t was) {
  // Spin even when someone already sleeps, and spin again after waking:
  // going straight to sleep behind a sleeper turns one contended moment into
  // a convoy of futex hand-offs (a wake-up costs the unlocker a system call
  // and the sleeper a trip through the kernel's scheduler, far more than the
  // critical section). `wait` is what we store when we take the lock: 2 once
  // we know someone may sleep in the futex, so that our unlock wakes them.
  uint32_t wait = was;
  for (;;) {
    for (int i = 0; i <= kSpinRounds; ++i) {
      if (state_.load(std::memory_order_relaxed) == 0) {
        const uint32_t v = state_.exchange(wait, std::memory_order_acquire);
        if (v == 0) return;
        if (v == 2) wait = 2;  // we erased a sleeper's mark: restore it on taking the lock
      }
      if (i < kSpinRounds) {
        for (int k = 0; k < kPausesPerRound; ++k) sched::CpuRelax();
      } else {
        sched_yield();  // the holder may be waiting for this CPU
      }
    }
    // Sleep: mark the word contended (2) so that the unlock wakes someone.
    if (state_.exchange(2, std::memory_order_acquire) == 0) return;
    wait = 2;
    sched::FutexWait(&state_, 2);
  }
}

}  // namespace go::internal
