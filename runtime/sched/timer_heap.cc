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
  heap_.push_back(t);
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
  while (!heap_.empty() && heap_[0]->when <= now) {
    Timer* t = heap_[0];
    auto f = t->f;
    void* arg = t->arg;
    const uint64_t seq = t->seq;
    if (t->period > 0) {
      // Periodic: re-arm first, skipping missed periods (a Ticker drops ticks).
      t->when += t->period * (1 + (now - t->when) / t->period);
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
  RawVector<Timer*> moved;
  {
    LockGuard g(lock_);
    moved.swap(heap_);
    for (Timer* t : moved) t->heap.store(nullptr, std::memory_order_relaxed);
    Publish();
  }
  for (Timer* t : moved) to->Add(t);
}

void TimerHeap::RemoveAt(int i) {
  Timer* t = heap_[i];
  t->heap.store(nullptr, std::memory_order_release);
  t->index = -1;
  const int last = static_cast<int>(heap_.size()) - 1;
  if (i != last) {
    heap_[i] = heap_[last];
    heap_[i]->index = i;
    heap_.pop_back();
    SiftDown(i);
    SiftUp(i);
  } else {
    heap_.pop_back();
  }
}

void TimerHeap::SiftUp(int i) {
  while (i > 0) {
    int parent = (i - 1) / 2;
    if (heap_[parent]->when <= heap_[i]->when) break;
    std::swap(heap_[parent], heap_[i]);
    heap_[parent]->index = parent;
    heap_[i]->index = i;
    i = parent;
  }
}

void TimerHeap::SiftDown(int i) {
  const int n = static_cast<int>(heap_.size());
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && heap_[l]->when < heap_[m]->when) m = l;
    if (r < n && heap_[r]->when < heap_[m]->when) m = r;
    if (m == i) break;
    std::swap(heap_[m], heap_[i]);
    heap_[m]->index = m;
    heap_[i]->index = i;
    i = m;
  }
}

}  // namespace go::sched
