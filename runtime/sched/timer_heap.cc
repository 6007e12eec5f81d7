#include "runtime/sched/timer_heap.h"

#include <utility>

#include "runtime/sched/sanitizers.h"

namespace go::sched {
namespace {

// Under ThreadSanitizer each callback runs in a fresh TSan fiber that has
// acquired only what the timer's armer released (AddTimer): the scheduler
// stack's own history must not leak into the goroutines the callback readies.
void RunCallback(Timer* t, void (*f)(void*, uint64_t, int64_t), void* arg, uint64_t seq,
                 int64_t now) {
  if (!san::TsanActive()) {
    f(arg, seq, now);
    return;
  }
  void* prev = san::CurrentFiber();
  void* fiber = san::CreateFiber();
  san::SwitchToFiber(fiber);
  san::Acquire(t);
  f(arg, seq, now);
  san::SwitchToFiber(prev);
  san::DestroyFiber(fiber);
}

}  // namespace

void TimerHeap::Add(Timer* t) {
  san::IgnoreAccesses no_tsan;  // runtime-internal table (sanitizers.h)
  LockGuard g(lock_);
  t->heap.store(this, std::memory_order_release);
  t->index = static_cast<int>(heap_.size());
  heap_.push_back(Entry{t->when, t});
  SiftUp(t->index);
  Publish();
}

bool TimerHeap::Remove(Timer* t) {
  LockGuard g(lock_);
  if (t->heap.load(std::memory_order_relaxed) != this) return false;
  RemoveAt(t->index);
  Publish();
  return true;
}

int TimerHeap::Run(int64_t now) {
  if (NextWhen() > now) return 0;
  int ran = 0;
  lock_.lock();
  while (!heap_.empty() && heap_[0].when <= now) {
    Timer* t = heap_[0].t;
    auto f = t->f;
    void* arg = t->arg;
    const uint64_t seq = t->seq;
    if (t->period > 0) {
      // Periodic: re-arm first, skipping missed periods (a Ticker drops ticks).
      t->when += t->period * (1 + (now - t->when) / t->period);
      heap_[0].when = t->when;
      SiftDown(0);
    } else {
      RemoveAt(0);
    }
    Publish();
    lock_.unlock();
    RunCallback(t, f, arg, seq, now);
    ++ran;
    lock_.lock();
  }
  lock_.unlock();
  return ran;
}

size_t TimerHeap::Size() {
  LockGuard g(lock_);
  return heap_.size();
}

void TimerHeap::MoveAllTo(TimerHeap* to) {
  san::IgnoreAccesses no_tsan;  // runtime-internal table (sanitizers.h)
  RawVector<Entry> moved;
  {
    LockGuard g(lock_);
    moved.swap(heap_);
    for (const Entry& e : moved) e.t->heap.store(nullptr, std::memory_order_relaxed);
    Publish();
  }
  for (const Entry& e : moved) to->Add(e.t);
}

void TimerHeap::RemoveAt(int i) {
  Timer* t = heap_[i].t;
  t->heap.store(nullptr, std::memory_order_release);
  t->index = -1;
  const int last = static_cast<int>(heap_.size()) - 1;
  if (i != last) {
    const int64_t removed_when = heap_[i].when;
    Place(i, heap_[last]);
    heap_.pop_back();
    // The last entry moves into the hole: down if it is later than what it
    // replaced, else up.
    if (heap_[i].when > removed_when) {
      SiftDown(i);
    } else {
      SiftUp(i);
    }
  } else {
    heap_.pop_back();
  }
}

void TimerHeap::SiftUp(int i) {
  const Entry e = heap_[i];
  while (i > 0) {
    const int parent = (i - 1) / kArity;
    if (heap_[parent].when <= e.when) break;
    Place(i, heap_[parent]);
    i = parent;
  }
  Place(i, e);
}

void TimerHeap::SiftDown(int i) {
  const int n = static_cast<int>(heap_.size());
  const Entry e = heap_[i];
  for (;;) {
    const int first = kArity * i + 1;
    if (first >= n) break;
    const int end = first + kArity < n ? first + kArity : n;
    int m = first;
    for (int c = first + 1; c < end; c++) {
      if (heap_[c].when < heap_[m].when) m = c;
    }
    if (heap_[m].when >= e.when) break;
    Place(i, heap_[m]);
    i = m;
  }
  Place(i, e);
}

}  // namespace go::sched
