#include "runtime/debug/debug.h"

#include "absl/strings/str_format.h"
#include "runtime/sched/sched_internal.h"

namespace go::debug {

std::string Goroutines() { return sched::DumpGoroutines(sched::CurrentGoroutine()); }

std::vector<GoroutineInfo> Snapshot() {
  std::vector<GoroutineInfo> out;
  const int64_t now = sched::MonoNow();
  sched::ForEachG([&](sched::G* g) {
    GoroutineInfo info;
    info.id = g->id.load(std::memory_order_relaxed);
    info.is_thread = g->is_thread;
    if (info.is_thread) info.id = -info.id;
    sched::GStatus st = g->status.load(std::memory_order_relaxed);
    switch (st) {
      case sched::GStatus::kWaiting:
        info.state = sched::WaitReasonString(g->wait_reason.load(std::memory_order_relaxed));
        info.waiting = absl::Nanoseconds(now - g->wait_since.load(std::memory_order_relaxed));
        break;
      case sched::GStatus::kRunnable:
        info.state = "runnable";
        break;
      case sched::GStatus::kSyscall:
        info.state = "syscall";
        break;
      default:
        info.state = "running";
    }
    if (st == sched::GStatus::kWaiting || st == sched::GStatus::kSyscall) {
      if (const char* f = g->blocked_file.load(std::memory_order_relaxed)) {
        info.blocked_at = absl::StrFormat("%s:%d (%s)", f, g->blocked_line.load(std::memory_order_relaxed),
                                          g->blocked_func.load(std::memory_order_relaxed));
      }
    }
    if (const char* f = g->created_file.load(std::memory_order_relaxed)) {
      info.created_at = absl::StrFormat("%s:%d (%s)", f, g->created_line.load(std::memory_order_relaxed),
                                        g->created_func.load(std::memory_order_relaxed));
    }
    info.created_by = g->created_by.load(std::memory_order_relaxed);
    out.push_back(std::move(info));
  });
  return out;
}

void SetDeadlockDetection(bool enabled) { sched::SetDeadlockDetection(enabled); }

}  // namespace go::debug
