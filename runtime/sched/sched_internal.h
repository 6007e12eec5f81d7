// Scheduler internals: Ps, Ms and the global scheduler state (Go's p, m and
// schedt). Only runtime/sched/*.cc include this.
//
// Invariants (cited as [S1].. in the .cc files):
//  [S1] A P is owned by at most one M at a time; only the owner pushes to its
//       local run queue (runq tail) or touches its free lists and stack
//       cache. Thieves only advance runq head with a CAS.
//  [S2] An M holds a P while it runs goroutines; an M without a P is either
//       spinning up (startm), in a system call, or asleep on its note in the
//       idle list.
//  [S3] A P is in the idle list iff its status is kIdle.
//  [S4] nmspinning counts Ms looking for work with a P. When the last
//       spinning M finds work it wakes another (resetspinning), so work that
//       appears while Ms are idle is never stranded.
//  [S5] Goroutines readied while idle Ps exist trigger wakep(): at most one
//       new spinning M at a time.
//  [S6] At most one M sleeps with a timeout (the "timed sleeper"), until
//       the earliest timer of any P; AddTimer wakes it when a new timer is
//       earlier (poll_until).
//  [S7] Work queued globally by a context that holds no P (a plain thread,
//       a P-less M running timers, an M back from a blocked system call, a
//       P retired by GOMAXPROCS) takes an idle P, if any, in the same
//       critical section as the put and hands it to an M (StartIdleLocked).
//       Every M drops its P only after checking the global queue under
//       s.lock, so either it sees the work or we see its P idle.
#ifndef GO_RUNTIME_SCHED_SCHED_INTERNAL_H_
#define GO_RUNTIME_SCHED_SCHED_INTERNAL_H_

#include <atomic>
#include <climits>
#include <cstdint>
#include <functional>
#include <vector>

#include "runtime/sched/g.h"
#include "runtime/sched/raw_alloc.h"
#include "runtime/sched/lock.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/small_alloc.h"
#include "runtime/sched/stack.h"
#include "runtime/sched/timer_heap.h"

namespace go::sched {

inline constexpr int kMaxProcs = 256;
inline constexpr uint32_t kRunqSize = 256;

enum class PStatus : uint32_t { kIdle, kRunning, kSyscall, kDead };

struct alignas(64) P {
  int id = 0;
  std::atomic<PStatus> status{PStatus::kDead};
  M* m = nullptr;
  P* link = nullptr;  // idle list
  std::atomic<uint32_t> schedtick{0};  // owner writes, sysmon reads
  // Set by sysmon when the running goroutine should give way (PreemptPoint);
  // cleared when the P starts another goroutine (Go's gp.preempt).
  std::atomic<bool> preempt{false};
  std::atomic<uint32_t> syscalltick{0};
  std::atomic<int64_t> syscall_since{0};

  // Local run queue: lock-free single-producer (owner) multi-consumer ring.
  alignas(64) std::atomic<uint32_t> runq_head{0};
  alignas(64) std::atomic<uint32_t> runq_tail{0};
  std::atomic<G*> runq[kRunqSize];
  // Thieves CAS runnext: a line of its own, away from the owner's fields.
  alignas(64) std::atomic<G*> runnext{nullptr};

  // Free Gs and stacks, owner-only [S1].
  alignas(64) G* gfree = nullptr;
  int ngfree = 0;
  RawVector<Stack> stack_cache;
  SmallCache small_cache;

  // Goroutine ids handed out in batches, like Go.
  int64_t goid_next = 0, goid_end = 0;
  // Goroutines started / exited on this P (single writer, summed by readers).
  std::atomic<int64_t> gstarted{0};
  std::atomic<int64_t> gexited{0};

  TimerHeap timers;

  // sysmon's view: last schedtick it saw and when it changed.
  uint32_t sysmon_tick = 0;
  int64_t sysmon_when = 0;
  bool sysmon_warned = false;
};

struct M {
  int id = 0;
  SchedContext g0;
  P* p = nullptr;
  std::atomic<P*> nextp{nullptr};  // P handed over by startm (release/acquire)
  P* oldp = nullptr;    // P held before a system call
  G* curg = nullptr;
  G* rerun = nullptr;   // a yielder to resume at once: nothing else was runnable
  bool spinning = false;
  Note park;
  M* schedlink = nullptr;  // idle list
  uint64_t rand_state = 0;
};

// Layout: fields that different Ms write often get cache lines of their own
// (at 16 Ps, WakeP's loads of npidle/nmspinning missed on every spawn while
// they shared a line with lock and the free list).
struct Sched {
  alignas(64) Lock lock;
  // Global run queue [guarded by lock].
  G* runq_head = nullptr;
  G* runq_tail = nullptr;
  // Idle Ms and Ps [guarded by lock].
  M* midle = nullptr;
  int nmidle = 0;
  int mcount = 0;
  P* pidle = nullptr;
  // [S6] the timed sleeper [guarded by lock].
  M* timed_sleeper = nullptr;
  int64_t sleeper_until = LLONG_MAX;  // its deadline

  alignas(64) std::atomic<int32_t> runq_size{0};
  alignas(64) std::atomic<int32_t> npidle{0};
  alignas(64) std::atomic<int32_t> nmspinning{0};
  alignas(64) std::atomic<int64_t> poll_until{LLONG_MAX};  // [S6]

  // Free Gs without a P (and overflow from Ps), under a lock of their own
  // as in Go (sched.gFree.lock): exits and spawns on different Ps move
  // batches through here, and must not queue behind the scheduler's lock.
  alignas(64) Lock gfree_lock;
  G* gfree = nullptr;
  // Written under gfree_lock; also read without it, as a hint, by GfGet.
  std::atomic<int> ngfree{0};

  // Read-mostly.
  alignas(64) std::atomic<int32_t> gomaxprocs{0};
  P* allp[kMaxProcs] = {};

  alignas(64) std::atomic<int64_t> goid_gen{0};
  std::atomic<int64_t> gstarted_nop{0};  // started/exited with no P
  std::atomic<int64_t> gexited_nop{0};
  alignas(64) std::atomic<G*> allg{nullptr};  // push-only registry of Gs

  // Periodic tasks run by sysmon.
  Lock periodic_lock;
  struct Periodic {
    std::function<void()> f;
    int64_t period, next;
  };
  RawVector<Periodic> periodic;
};

Sched& sched();
// Starts the runtime if needed (idempotent, thread-safe).
void EnsureStarted();
// The M of the calling thread, or null for plain threads.
M* CurrentM();

// Run queues and Ps.
void RunqPut(P* p, G* g, bool next);
G* RunqGet(P* p);
bool RunqEmpty(P* p);
void GlobRunqPut(G* g);  // requires sched().lock
void WakeP();
void StartM(P* p, bool spinning);
P* PidleGet();          // requires sched().lock
void PidlePut(P* p);    // requires sched().lock
void HandoffP(P* p);
int64_t MonoNow();
int64_t CoarseNow();  // CLOCK_MONOTONIC_COARSE: cheap, tick-grained
int64_t WallNow();

// Syscall support for sysmon.
void SysmonStart();

// The P this thread owns right now, or null: a plain thread, an M between
// Ps, or an M inside a SyscallGuard (whose P sysmon may have handed to
// another M). The owner alone may touch the P's caches [S1].
P* OwnedP();

// Fatal-path helpers (panic.cc).
void InstallSignalHandlers();
void InitSignalStackForThread();
[[noreturn]] void StackOverflow(G* g);
bool ConsumeSigquit();  // set by the SIGQUIT handler, polled by sysmon

}  // namespace go::sched

#endif  // GO_RUNTIME_SCHED_SCHED_INTERNAL_H_
