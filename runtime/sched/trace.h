// The scheduler's event recorder behind package trace (runtime/trace).
//
// Off by default: each hook is one relaxed load. When on, events go to a
// per-thread buffer (no shared lock on the hot path); Collect() gathers them.
#ifndef GO_RUNTIME_SCHED_TRACE_H_
#define GO_RUNTIME_SCHED_TRACE_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "runtime/sched/g.h"

namespace go::sched {

enum class TraceKind : uint8_t { kCreate, kStart, kStop, kPark, kUnpark, kEnd };

struct TraceEvent {
  int64_t ts;          // runtime nanotime (virtual inside a bubble)
  int64_t g;           // goroutine id
  int64_t arg;         // kCreate: parent id; kUnpark: waker id (0: a thread or timer)
  uint64_t bubble_seq; // goroutine's spawn order inside its bubble (0 outside)
  int32_t m;           // M id (-1: a plain thread or a bubble loop)
  int32_t p;           // P id (-1: none)
  TraceKind kind;
  WaitReason reason;   // kPark
  bool in_bubble;
};

extern std::atomic<bool> g_trace_on;

void TraceRecord(TraceKind kind, G* g, int64_t arg = 0);
inline void TraceHook(TraceKind kind, G* g, int64_t arg = 0) {
  if (g_trace_on.load(std::memory_order_relaxed)) TraceRecord(kind, g, arg);
}
void TraceStart();
// Stops recording and returns every event, sorted by (ts, thread order).
std::vector<TraceEvent> TraceStop();

}  // namespace go::sched

#endif  // GO_RUNTIME_SCHED_TRACE_H_
