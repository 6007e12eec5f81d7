// The scheduler's interface to the rest of the runtime.
//
// Everything that blocks (channels, semaphores, sleep, synctest) is built on
// two calls, in the style of Go's gopark/goready:
//
//   Park(commit, arg, reason, where)
//     Stops the caller until someone calls Ready on its G. A goroutine saves
//     its fiber and switches to its scheduler; `commit(g, arg)` then runs on
//     the scheduler stack, *after* the goroutine can no longer run, which is
//     where the caller drops the lock that protects the wait queue holding g.
//     That ordering is what makes lost wakeups impossible: nobody can find g
//     in a queue before g is fully parked. If commit returns false, the park
//     is cancelled and g resumes at once. A plain thread runs commit on its
//     own stack and then sleeps on its futex permit, so a Ready that arrives
//     early is not lost either.
//
//   Ready(g)
//     Makes a parked g runnable: onto the current P's runnext slot (it runs
//     next, like Go), or the global queue from a thread without a P, or its
//     bubble's queue, or, for a thread G, a futex wake. Everything the caller
//     did before Ready happens before g continues (also for ThreadSanitizer).
//
// Invariants every primitive must keep:
//   - A G is in at most one wait queue per Park, and is Readied exactly once
//     per Park (select removes its losing waiters under their channel locks).
//   - commit must not block and must not Park.
#ifndef GO_RUNTIME_SCHED_SCHED_H_
#define GO_RUNTIME_SCHED_SCHED_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <source_location>
#include <string>
#include <utility>

#include "runtime/sched/g.h"

namespace go::sched {

using ParkCommit = bool (*)(G* g, void* arg);

void Park(ParkCommit commit, void* arg, WaitReason reason,
          std::source_location where = std::source_location::current());
void Ready(G* g);

// Starts a goroutine running `fn` (type-erased into g by the caller).
// Go() in runtime/goroutine.h is the public face.
G* NewG(std::source_location where);
void StartG(G* g);

void Yield();           // Gosched
int NumGoroutine();
int SetMaxProcs(int n);  // GOMAXPROCS
int MaxProcs();

// Monotonic runtime clock in nanoseconds (virtual inside a synctest bubble).
int64_t Nanotime();
// Wall clock in nanoseconds since the Unix epoch, matching Nanotime's rate.
int64_t Walltime();
// Fast per-M random numbers (deterministic inside a synctest bubble).
uint32_t Rand();
uint32_t RandN(uint32_t n);

// Mutex spinning (Go's sync_runtime_canSpin): true while spinning a little
// longer may pay off: a multicore machine, GOMAXPROCS > 1, iter < 4, another P
// busy running goroutines, and nothing waiting in this P's run queue.
bool CanSpin(int iter);
// Spins for about 30 pause instructions (Go's procyield(active_spin_cnt)).
void DoSpin();
// The id of the P running the calling goroutine, or -1 on a plain thread, on
// g0, or inside a synctest bubble. Stable until the goroutine parks, yields
// or passes a preemption point (scheduling is cooperative), which is what
// per-P caches such as sync.Pool rely on: they call none of those while they
// use the id. NumProcSlots() bounds the ids (the most Ps that ever existed).
int CurrentP();
int NumProcSlots();

// What the two calls below look at before doing anything: both are read by
// every channel operation and go statement, and written rarely (sysmon, at
// most once per 10ms cycle; synctest, once per bubble), so they share a
// cache line of their own and the common case costs two relaxed loads.
struct alignas(64) PreemptState {
  // Set by sysmon while some P has a preemption request pending (a hint:
  // the P's own flag decides).
  std::atomic<bool> requested{false};
  // synctest bubbles whose Test is running (their goroutines need the
  // bubble's scheduling points).
  std::atomic<int> live_bubbles{0};
};
extern PreemptState g_preempt;

void MaybePreemptSlow();
void PreemptPointSlow();

// A scheduling point, called by the runtime's primitives (channel operations,
// the slow paths of the sync locks, ...). Inside a synctest bubble it may
// switch to another bubble goroutine (the seed decides); elsewhere it is a
// preemption point (PreemptPoint).
inline void MaybePreempt() {
  if (g_preempt.requested.load(std::memory_order_relaxed) ||
      g_preempt.live_bubbles.load(std::memory_order_relaxed) != 0) {
    MaybePreemptSlow();
  }
}

// A preemption point: if sysmon has asked the calling goroutine's P to give
// way (the goroutine has run for over 10ms while other work waits on that
// P or on the global queue), yields to the back of the global run queue, as
// Go's preemption does; otherwise returns at once. go::Go calls it after
// starting the new goroutine, so a loop that spawns cannot starve the
// goroutines it spawned. A no-op on threads, g0 and in synctest bubbles.
inline void PreemptPoint() {
  if (g_preempt.requested.load(std::memory_order_relaxed)) PreemptPointSlow();
}

// --- timers -------------------------------------------------------------
// A runtime timer: `f(arg, seq, now)` runs on a scheduler stack when `when`
// has passed (then again every `period` ns if period > 0). f must not block.
// f receives copies of arg and seq (like Go's timer func) instead of the
// Timer: the callback must not touch the Timer's fields, which its owner may
// change concurrently (and ThreadSanitizer would rightly call that a race).
struct Timer {
  int64_t when = 0;
  int64_t period = 0;
  void (*f)(void* arg, uint64_t seq, int64_t now) = nullptr;
  void* arg = nullptr;
  uint64_t seq = 0;  // free for the owner (e.g. Go 1.23 stale-value checks)
  // The bubble whose virtual clock drives this timer (null: real time). Set
  // by InitTimer from the calling goroutine.
  Bubble* bubble = nullptr;
  // Internal: the heap the timer sits in, guarded by that heap's lock.
  std::atomic<void*> heap{nullptr};
  int index = -1;
};
// Binds t to the calling goroutine's clock (its synctest bubble, if any).
void InitTimer(Timer* t);
// Schedules t (which must not be pending). Thread-safe.
void AddTimer(Timer* t);
// Unschedules t; true if it was pending (so f will not run for this arming).
bool DelTimer(Timer* t);
// DelTimer + set when + AddTimer; returns whether it was pending.
bool ResetTimer(Timer* t, int64_t when, int64_t period = 0);

// --- system calls -----------------------------------------------------------
// RAII guard around a call that may block in the kernel (read, accept, ...).
// While it lives, sysmon may hand the goroutine's P to another M after ~20us,
// so other goroutines keep running. A no-op outside goroutines.
class SyscallGuard {
 public:
  explicit SyscallGuard(std::source_location where = std::source_location::current());
  ~SyscallGuard();
  SyscallGuard(const SyscallGuard&) = delete;
  SyscallGuard& operator=(const SyscallGuard&) = delete;

 private:
  bool active_;
};

// --- synctest hooks -------------------------------------------------------
// A bubble is a private scheduler for a group of goroutines (runtime/synctest).
// The core scheduler routes Ready, spawn, clocks, timers and randomness of
// bubble goroutines here.
class Bubble {
 public:
  virtual ~Bubble() = default;
  virtual void Ready(G* g) = 0;
  virtual void Spawned(G* g) = 0;
  // Called on g's own fiber just before it exits.
  virtual void Exited(G* g) = 0;
  virtual void Parked(G* g) = 0;
  virtual int64_t Nanotime() = 0;
  virtual void AddTimer(Timer* t) = 0;
  virtual bool DelTimer(Timer* t) = 0;
  virtual uint32_t Rand() = 0;
  virtual void MaybePreempt(G* g) = 0;
};
// The bubble of the current goroutine, or null.
Bubble* CurrentBubble();

// --- running a fiber from a custom scheduler (synctest) -----------------------
// A scheduling context: the stack a goroutine returns to when it parks.
struct SchedContext {
  void* sp = nullptr;
  void* tsan_fiber = nullptr;
  const void* stack_bottom = nullptr;
  size_t stack_size = 0;
  void* asan_fake_stack = nullptr;
};
// Fills ctx for the calling stack (thread or goroutine).
void InitSchedContextHere(SchedContext* ctx);
enum class SwitchReason { kPark, kYield, kPreempt, kExit, kSyscallBlocked };
// Runs g on the calling stack's context until it parks, yields or exits.
// Handles first-run stack setup and sanitizer annotations. Returns why g
// stopped; for kPark, the commit function has already been run.
SwitchReason RunFiber(SchedContext* ctx, G* g);
// Releases a dead G's resources (stack back to the pool, G to the free list).
void FreeDeadG(G* g);

// --- diagnostics -------------------------------------------------------------
// Calls f for every goroutine and waiting thread that is not dead.
void ForEachG(const std::function<void(G*)>& f);
// Go-style goroutine dump of every live G ("goroutine N [reason, X minutes]:").
std::string DumpGoroutines(const G* highlight = nullptr);
// Prints "fatal error: <msg>", the dump, and exits with status 2.
[[noreturn]] void Fatal(const std::string& msg, bool dump = true);
// Deadlock detector switch (runtime/debug/debug.h describes the detector).
void SetDeadlockDetection(bool enabled);
// Registers f to run about every `period_ns` on the sysmon thread.
void RegisterPeriodic(std::function<void()> f, int64_t period_ns);

}  // namespace go::sched

#endif  // GO_RUNTIME_SCHED_SCHED_H_
