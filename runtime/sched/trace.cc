#include "runtime/sched/trace.h"

#include <algorithm>

#include "runtime/sched/sanitizers.h"
#include "runtime/sched/sched_internal.h"

namespace go::sched {

std::atomic<bool> g_trace_on{false};

namespace {

struct Buffer {
  Lock lock;  // uncontended: only its thread appends; Collect reads it
  RawVector<TraceEvent> events;
  Buffer* next = nullptr;
};

Lock g_buffers_lock;
Buffer* g_buffers = nullptr;
thread_local Buffer* tls_buffer = nullptr;

Buffer* ThreadBuffer() {
  if (!tls_buffer) {
    auto* b = new Buffer;  // lives for the process: threads may exit
    LockGuard l(g_buffers_lock);
    b->next = g_buffers;
    g_buffers = b;
    tls_buffer = b;
  }
  return tls_buffer;
}

}  // namespace

void TraceRecord(TraceKind kind, G* g, int64_t arg) {
  san::IgnoreAccesses no_tsan;
  M* m = CurrentM();
  TraceEvent e{};
  e.kind = kind;
  e.in_bubble = g->bubble != nullptr;
  e.ts = e.in_bubble ? g->bubble->Nanotime() : MonoNow();
  e.g = g->id.load(std::memory_order_relaxed);
  e.arg = arg;
  e.bubble_seq = g->bubble_seq;
  e.m = m ? m->id : -1;
  e.p = (m && m->p) ? m->p->id : -1;
  e.reason = g->wait_reason.load(std::memory_order_relaxed);
  Buffer* b = ThreadBuffer();
  LockGuard l(b->lock);
  b->events.push_back(e);
}

void TraceStart() {
  san::IgnoreAccesses no_tsan;
  {
    LockGuard l(g_buffers_lock);
    for (Buffer* b = g_buffers; b; b = b->next) {
      LockGuard bl(b->lock);
      b->events.clear();
    }
  }
  g_trace_on.store(true);
}

std::vector<TraceEvent> TraceStop() {
  g_trace_on.store(false);
  san::IgnoreAccesses no_tsan;
  std::vector<TraceEvent> all;
  LockGuard l(g_buffers_lock);
  for (Buffer* b = g_buffers; b; b = b->next) {
    LockGuard bl(b->lock);
    all.insert(all.end(), b->events.begin(), b->events.end());
    b->events.clear();
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return a.ts < b.ts; });
  return all;
}

}  // namespace go::sched
