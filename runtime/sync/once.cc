// sync.Once slow path (once.h has the contract and why a CAS is not enough).
//
// Invariant: done_ becomes 1 exactly once, after the only call of f has
// returned or thrown, and while m_ is held; it never goes back to 0.
#include "runtime/sync/once.h"

#include <mutex>

#include "runtime/sched/sched.h"

namespace go::sync {

void Once::DoSlow(absl::FunctionRef<void()> f) {
  sched::MaybePreempt();
  std::lock_guard<Mutex> l(m_);
  if (done_.load(std::memory_order_relaxed) != 0) return;
  // Mark done on the way out even if f throws (Go defers the store): a
  // throwing f counts as the one call. Runs before the mutex is released.
  struct MarkDone {
    std::atomic<uint32_t>* done;
    ~MarkDone() { done->store(1, std::memory_order_release); }
  } mark{&done_};
  f();
}

}  // namespace go::sync
