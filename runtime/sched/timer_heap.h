// A lock-protected binary min-heap of runtime timers.
//
// Each P owns one (Go's per-P timer heaps, so that arming a timer on the
// running P touches no shared lock); a synctest bubble owns one driven by its
// virtual clock. `next_when` mirrors the earliest deadline so that idle Ms can
// compute how long to sleep without taking every heap's lock.
#ifndef GO_RUNTIME_SCHED_TIMER_HEAP_H_
#define GO_RUNTIME_SCHED_TIMER_HEAP_H_

#include <atomic>
#include <climits>
#include <cstdint>
#include <vector>

#include "runtime/sched/lock.h"
#include "runtime/sched/raw_alloc.h"
#include "runtime/sched/sched.h"

namespace go::sched {

class TimerHeap {
 public:
  static constexpr int64_t kNever = INT64_MAX;

  void Add(Timer* t);
  // Removes t if it is in this heap. True if it was.
  bool Remove(Timer* t);
  // Runs every timer whose deadline is <= now. Callbacks run without the
  // heap's lock held; a non-periodic timer is not touched after its callback
  // starts (the callback may free it). Returns the number of timers run.
  int Run(int64_t now);
  int64_t NextWhen() const { return next_when_.load(std::memory_order_acquire); }
  size_t Size();
  // Moves every timer into `to` (used when a P is retired).
  void MoveAllTo(TimerHeap* to);

 private:
  void SiftUp(int i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_);
  void SiftDown(int i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_);
  void RemoveAt(int i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_);
  void Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    next_when_.store(heap_.empty() ? kNever : heap_[0]->when, std::memory_order_release);
  }

  Lock lock_;
  RawVector<Timer*> heap_ ABSL_GUARDED_BY(lock_);
  std::atomic<int64_t> next_when_{kNever};
};

}  // namespace go::sched

#endif  // GO_RUNTIME_SCHED_TIMER_HEAP_H_
