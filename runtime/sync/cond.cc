// sync.Cond::Wait (cond.h has the contract).
#include "runtime/sync/cond.h"

#include "runtime/sched/sched.h"

namespace go::sync {

void Cond::Wait() {
  sched::MaybePreempt();
  // The ticket is taken while we still hold the mutex, so a Signal that
  // follows the Unlock below covers us even if we have not slept yet.
  const uint32_t t = notify_.Add();
  l_->Unlock();
  notify_.Wait(t, sched::WaitReason::kCondWait);
  l_->Lock();
}

}  // namespace go::sync
