// sysmon: the runtime's monitor thread (Go's sysmon). It never holds a P.
//
//  * Retakes Ps from goroutines blocked in a SyscallGuard for more than
//    20us when other work could use the P, so a blocking read() does not
//    stall its P's run queue.
//  * Asks a goroutine that has held its P for more than 10ms while other
//    work waits to give way at its next preemption point (PreemptPoint: a
//    go statement, a channel operation, a lock's slow path); in debug builds
//    reports one that passes none for 20ms: scheduling is cooperative (there
//    is no asynchronous preemption), so such loops must call go::Gosched().
//  * Prints the goroutine dump on SIGQUIT (the handler only sets a flag).
//  * Runs periodic runtime chores (sync.Pool victim aging, ...).
// It polls every 20us while some P is in a system call and backs off to 10ms
// otherwise (as Go's does), so it costs nothing measurable when idle.
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "runtime/sched/sanitizers.h"
#include "runtime/sched/sched_internal.h"

namespace go::sched {
namespace {

constexpr int64_t kRetakeAfter = 20 * 1000;        // 20us
constexpr int64_t kLongRunning = 10 * 1000 * 1000;  // 10ms

bool Retake(int64_t now) {
  Sched& s = sched();
  bool watching = false;
  bool preempting = false;  // some P has a request pending
  const int n = s.gomaxprocs.load(std::memory_order_acquire);
  for (int i = 0; i < kMaxProcs; i++) {
    P* p = s.allp[i];
    if (!p) break;
    PStatus st = p->status.load(std::memory_order_acquire);
    if (st == PStatus::kSyscall) {
      watching = true;
      const int64_t blocked = now - p->syscall_since.load(std::memory_order_relaxed);
      if (blocked < kRetakeAfter) continue;
      const bool others_need_it = !RunqEmpty(p) ||
                                  s.runq_size.load(std::memory_order_relaxed) > 0 ||
                                  s.npidle.load() + s.nmspinning.load() == 0 ||
                                  blocked > kLongRunning || i >= n;
      if (!others_need_it) continue;
      PStatus expected = PStatus::kSyscall;
      if (p->status.compare_exchange_strong(expected, PStatus::kIdle,
                                            std::memory_order_acq_rel)) {
        HandoffP(p);
      }
    } else if (st == PStatus::kRunning) {
      // A request not yet honoured (Execute clears it) keeps the hint up.
      if (p->preempt.load(std::memory_order_relaxed)) preempting = true;
      const uint32_t tick = p->schedtick.load(std::memory_order_relaxed);
      if (tick != p->sysmon_tick) {
        p->sysmon_tick = tick;
        p->sysmon_when = now;
        p->sysmon_warned = false;
        continue;
      }
      const int64_t ran = now - p->sysmon_when;
      if (ran < kLongRunning) continue;
      // One goroutine has had this P for over 10ms. Ask it to give way at
      // its next preemption point when anything waits for a P: this P's
      // queue or timers, or the global queue.
      const bool others_wait = !RunqEmpty(p) || s.runq_size.load(std::memory_order_relaxed) > 0 ||
                               p->timers.NextWhen() <= now;
      if (!others_wait) continue;
      p->preempt.store(true, std::memory_order_relaxed);
      preempting = true;
#ifndef NDEBUG
      if (!p->sysmon_warned && ran > 2 * kLongRunning) {
        p->sysmon_warned = true;
        // Once per process: the hint matters, a flood of it does not.
        static bool warned_once = false;
        if (warned_once) continue;
        warned_once = true;
        fprintf(stderr,
                "runtime: a goroutine has held P %d for over 20ms while others wait, "
                "passing no preemption point (go statement, channel operation, lock); "
                "scheduling is cooperative, call go::Gosched() in long loops\n",
                p->id);
      }
#endif
    }
  }
  // The hint that sends preemption points to their slow path: written only
  // when it changes, since every channel operation reads its line.
  if (g_preempt.requested.load(std::memory_order_relaxed) != preempting) {
    g_preempt.requested.store(preempting, std::memory_order_relaxed);
  }
  return watching;
}

void RunPeriodic(int64_t now) {
  Sched& s = sched();
  std::vector<std::function<void()>*> due;
  {
    LockGuard l(s.periodic_lock);
    for (auto& p : s.periodic) {
      if (now >= p.next) {
        p.next = now + p.period;
        due.push_back(&p.f);
      }
    }
  }
  // Entries are never removed, so the pointers stay valid.
  if (!due.empty()) san::Acquire(&s.periodic);
  for (auto* f : due) (*f)();
}

// --- deadlock detection (docs in runtime/debug/debug.h) ----------------------

std::atomic<bool> g_deadlock_detect{true};

int ProcessThreads() {
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  int n = -1;
  while (fgets(line, sizeof(line), f)) {
    if (sscanf(line, "Threads: %d", &n) == 1) break;
  }
  fclose(f);
  return n;
}

// Cheap precheck: every P idle, nothing queued, no timer, no system call.
bool LooksIdle() {
  Sched& s = sched();
  const int procs = s.gomaxprocs.load(std::memory_order_acquire);
  if (s.npidle.load(std::memory_order_acquire) != procs) return false;
  if (s.runq_size.load(std::memory_order_acquire) != 0) return false;
  for (int i = 0; i < kMaxProcs; i++) {
    P* p = s.allp[i];
    if (!p) break;
    if (p->status.load(std::memory_order_acquire) == PStatus::kSyscall) return false;
    if (p->timers.NextWhen() != TimerHeap::kNever) return false;
  }
  return true;
}

// Full check: every goroutine waits, and every OS thread is an idle M, sysmon
// or a thread parked on a runtime primitive. Any other thread might still
// wake someone, so it vetoes the verdict. Returns the number of waiters.
int EveryoneAsleep() {
  int waiting_threads = 0, goroutines = 0;
  bool all_blocked = true;
  ForEachG([&](G* g) {
    GStatus st = g->status.load(std::memory_order_acquire);
    if (g->is_thread) {
      if (st == GStatus::kWaiting) waiting_threads++;
      return;
    }
    goroutines++;
    // Bubble goroutines are the bubble's business (it reports its own deadlocks).
    if (st != GStatus::kWaiting || g->bubble) all_blocked = false;
  });
  if (!all_blocked || goroutines + waiting_threads == 0) return 0;
  int expected;
  {
    LockGuard l(sched().lock);
    expected = sched().mcount + 1 /* sysmon */ + waiting_threads;
  }
  if (san::TsanActive()) expected += 1;  // TSan's background thread
  return ProcessThreads() == expected ? goroutines + waiting_threads : 0;
}

int64_t DeadlockGrace() {
  static const int64_t grace = [] {
    const char* e = getenv("GO_DEADLOCK_GRACE_MS");
    long ms = e ? atol(e) : 1000;
    return static_cast<int64_t>(ms < 10 ? 10 : ms) * 1000000;
  }();
  return grace;
}

void CheckDeadlock(int64_t now) {
  static int64_t idle_since = 0;
  if (!g_deadlock_detect.load(std::memory_order_relaxed) || !LooksIdle()) {
    idle_since = 0;
    return;
  }
  if (idle_since == 0) {
    idle_since = now;
    return;
  }
  if (now - idle_since < DeadlockGrace()) return;
  idle_since = now;  // re-check one grace period later at the earliest
  if (EveryoneAsleep() > 0 && LooksIdle()) {
    Fatal("all goroutines are asleep - deadlock!", true);
  }
}

}  // namespace

void SetDeadlockDetection(bool enabled) { g_deadlock_detect.store(enabled); }

namespace {

void SysmonLoop() {
  if (const char* e = getenv("GO_DEADLOCK_DETECT"); e && std::string(e) == "0") {
    g_deadlock_detect.store(false);
  }
  InitSignalStackForThread();
  int64_t delay = 20 * 1000;
  for (;;) {
    struct timespec ts {0, delay};
    nanosleep(&ts, nullptr);
    const int64_t now = MonoNow();
    const bool watching = Retake(now);
    if (ConsumeSigquit()) {
      Fatal("SIGQUIT: goroutine dump", true);
    }
    RunPeriodic(now);
    CheckDeadlock(now);
    delay = watching ? 20 * 1000 : (delay * 2 > kLongRunning ? kLongRunning : delay * 2);
  }
}

}  // namespace

void SysmonStart() {
  std::thread t(&SysmonLoop);
  t.detach();
}

}  // namespace go::sched
