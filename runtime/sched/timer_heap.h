// A lock-protected 4-ary min-heap of runtime timers.
//
// Each entry holds the deadline beside the timer pointer, so sifting compares
// within the heap's own array and never loads a timer (which may sit on a
// parked goroutine's stack, cold): with 10,000 sleepers that load missed at
// every level. Four children per node halve the depth (Go's timer heap is
// 4-ary too); a sift moves a hole and writes each moved entry once.
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
    next_when_.store(heap_.empty() ? kNever : heap_[0].when, std::memory_order_release);
  }
  // Puts e at index i and records i in its timer.
  struct Entry {
    int64_t when;  // == t->when while t is in the heap
    Timer* t;
  };
  static constexpr int kArity = 4;
  // Puts e at index i and records i in its timer.
  void Place(int i, const Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    heap_[i] = e;
    e.t->index = i;
  }

  Lock lock_;
  RawVector<Entry> heap_ ABSL_GUARDED_BY(lock_);
  std::atomic<int64_t> next_when_{kNever};
};

}  // namespace go::sched

#endif  // GO_RUNTIME_SCHED_TIMER_HEAP_H_
