// The G/M/P scheduler: run queues, work stealing, idle Ms, goroutine
// creation and exit, parking and readying. See sched_internal.h for the
// invariants [S1]..[S6] cited below, and docs/runtime/scheduler.md.
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <new>
#include <thread>

#include "runtime/sched/context.h"
#include "runtime/sched/sanitizers.h"
#include "runtime/sched/sched_internal.h"
#include "runtime/sched/trace.h"

namespace go::sched {
namespace {

// Thread-local state. A goroutine can resume on a different OS thread, so
// these are only ever read through the noinline accessors below: the compiler
// must not cache a thread-local address across a context switch.
thread_local M* tls_m = nullptr;
thread_local G* tls_g = nullptr;         // goroutine running on this thread
thread_local G* tls_thread_g = nullptr;  // this thread's own G (plain threads)

__attribute__((noinline, noipa)) M* LoadM() { return tls_m; }
__attribute__((noinline, noipa)) G* LoadG() { return tls_g; }
__attribute__((noinline, noipa)) void StoreG(G* g) { tls_g = g; }

Sched* g_sched = nullptr;
std::once_flag g_start_once;
std::atomic<bool> g_started{false};  // EnsureStarted's fast path

int DefaultProcs() {
  if (const char* e = getenv("GOMAXPROCS")) {
    int n = atoi(e);
    if (n > 0) return n > kMaxProcs ? kMaxProcs : n;
  }
  unsigned n = std::thread::hardware_concurrency();
  if (n == 0) n = 1;
  return n > static_cast<unsigned>(kMaxProcs) ? kMaxProcs : static_cast<int>(n);
}

uint64_t SplitMix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

thread_local uint64_t tls_rand = 0;

uint32_t ThreadRand() {
  if (tls_rand == 0) {
    tls_rand = reinterpret_cast<uintptr_t>(&tls_rand) ^ static_cast<uint64_t>(MonoNow());
  }
  return static_cast<uint32_t>(SplitMix(tls_rand) >> 32);
}

void AcquireP(M* m, P* p) {
  m->p = p;
  p->m = m;
  p->status.store(PStatus::kRunning, std::memory_order_release);
}

P* ReleaseP(M* m) {
  P* p = m->p;
  p->m = nullptr;
  m->p = nullptr;
  return p;
}

// ---------------------------------------------------------------------------
// Gs: allocation, free lists, the registry.

void RegisterG(G* g) {
  Sched& s = sched();
  G* head = s.allg.load(std::memory_order_relaxed);
  do {
    g->all_next = head;
  } while (!s.allg.compare_exchange_weak(head, g, std::memory_order_release,
                                         std::memory_order_relaxed));
}

// G records are never freed (dead ones go to free lists). They come from
// the small-object allocator's huge-page arenas (small_alloc.h): malloc's
// per-thread arenas grow their heaps with an mprotect per step, which made
// fresh Gs a system call each in spawn-heavy runs (sysmalloc + mprotect:
// ~10% of sleepers_100k), and every fresh 4 KiB page is a fault that costs
// 10-17 us on virtual machines.
G* AllocG() {
  // (Under the sanitizers SmallAlloc is operator new: each G gets fresh
  // TSan shadow, and LSan scans Gs as heap blocks reachable from allg.)
  static_assert(sizeof(G) <= kSmallAllocMax && alignof(G) <= kSmallAllocAlign);
  G* g = new (SmallAlloc(sizeof(G))) G;
  RegisterG(g);
  return g;
}

// Free G records [S1]: a per-P list, refilled from and spilled to the global
// one in batches of 32 under s.gfree_lock (never s.lock: lock order is
// s.lock before gfree_lock, and nothing here needs the scheduler's lock).
G* GfGet(P* p) {
  Sched& s = sched();
  if (p) {
    if (!p->gfree && s.ngfree.load(std::memory_order_relaxed) > 0) {
      LockGuard l(s.gfree_lock);
      while (s.gfree && p->ngfree < 32) {
        G* g = s.gfree;
        s.gfree = g->schedlink;
        s.ngfree.fetch_sub(1, std::memory_order_relaxed);
        g->schedlink = p->gfree;
        p->gfree = g;
        p->ngfree++;
      }
    }
    if (G* g = p->gfree) {
      p->gfree = g->schedlink;
      p->ngfree--;
      return g;
    }
    return AllocG();
  }
  {
    LockGuard l(s.gfree_lock);
    if (G* g = s.gfree) {
      s.gfree = g->schedlink;
      s.ngfree.fetch_sub(1, std::memory_order_relaxed);
      return g;
    }
  }
  return AllocG();
}

// Pushes g on the global free list [gfree_lock held].
void GfPutGlobalLocked(G* g) {
  Sched& s = sched();
  g->schedlink = s.gfree;
  s.gfree = g;
  s.ngfree.fetch_add(1, std::memory_order_relaxed);
}

void GfPut(P* p, G* g) {
  // Under ThreadSanitizer a G record is never reused: the next goroutine's
  // creator would write the callable storage the dead goroutine's code read,
  // and no happens-before edge between the two should be invented.
  if (san::TsanActive()) return;
  if (p) {
    g->schedlink = p->gfree;
    p->gfree = g;
    if (++p->ngfree < 64) return;
    // Move half to the global list.
    LockGuard l(sched().gfree_lock);
    while (p->ngfree > 32) {
      G* x = p->gfree;
      p->gfree = x->schedlink;
      p->ngfree--;
      GfPutGlobalLocked(x);
    }
    return;
  }
  LockGuard l(sched().gfree_lock);
  GfPutGlobalLocked(g);
}

int64_t NextGoid(P* p) {
  Sched& s = sched();
  if (!p) return s.goid_gen.fetch_add(1, std::memory_order_relaxed) + 1;
  if (p->goid_next == p->goid_end) {
    constexpr int64_t kBatch = 16;
    p->goid_next = s.goid_gen.fetch_add(kBatch, std::memory_order_relaxed) + 1;
    p->goid_end = p->goid_next + kBatch;
  }
  return p->goid_next++;
}

Stack GetStack(P* p) {
  san::IgnoreAccesses no_tsan;  // runtime-internal table (sanitizers.h)
  if (p && !p->stack_cache.empty()) {
    Stack s = p->stack_cache.back();
    p->stack_cache.pop_back();
    return s;
  }
  return StackAlloc();
}

void PutStack(P* p, Stack s) {
  san::IgnoreAccesses no_tsan;  // runtime-internal table (sanitizers.h)
  // Under TSan every stack goes back through StackFree, which gives it fresh
  // pages (and TSan fresh shadow) before the next goroutine runs on it.
  if (p && !san::TsanActive()) {
    if (p->stack_cache.size() < 64) {
      p->stack_cache.push_back(s);
      return;
    }
    // Full: the older half (the colder stacks) goes to the pool in one batch.
    StackFreeBatch(p->stack_cache.data(), 32);
    p->stack_cache.erase(p->stack_cache.begin(), p->stack_cache.begin() + 32);
    p->stack_cache.push_back(s);
    return;
  }
  StackFree(s);
}

// ---------------------------------------------------------------------------
// TSan fibers. Creating one costs milliseconds (TSan maps and clears a whole
// ThreadState), so dead goroutines' fibers are recycled, oldest first, once
// kTsanFiberReuseDistance of them are waiting. A recycled fiber carries its
// previous goroutine's history, which hides races only between goroutines
// that many spawns apart; every nearer pair is checked.
constexpr size_t kTsanFiberReuseDistance = 256;
Lock g_fiber_lock;
std::deque<void*, RawAllocator<void*>>* g_fiber_fifo = nullptr;

void* TakeTsanFiber() {
  // Without TSan there is no fiber to take, and no reason to touch the
  // global lock: every goroutine's first run comes here (at 16 Ps this lock
  // was a third of skynet_1m's time).
  if (!san::TsanActive()) return nullptr;
  san::IgnoreAccesses no_tsan;  // runtime-internal table (sanitizers.h)
  {
    LockGuard l(g_fiber_lock);
    if (g_fiber_fifo && g_fiber_fifo->size() >= kTsanFiberReuseDistance) {
      void* f = g_fiber_fifo->front();
      g_fiber_fifo->pop_front();
      return f;
    }
  }
  return san::CreateFiber();
}

void GiveBackTsanFiber(void* f) {
  if (!f) return;
  san::IgnoreAccesses no_tsan;  // runtime-internal table (sanitizers.h)
  LockGuard l(g_fiber_lock);
  if (!g_fiber_fifo) g_fiber_fifo = new std::deque<void*, RawAllocator<void*>>;
  g_fiber_fifo->push_back(f);
}

// ---------------------------------------------------------------------------
// Fiber entry and switching.

[[noreturn]] void SwitchOutFinal(G* g);

void SwitchOut(G* g, SwitchReason why) {
  g->switch_reason.store(static_cast<int>(why), std::memory_order_relaxed);
  SchedContext* home = g->home;
  san::SwitchToFiber(home->tsan_fiber);
  san::StartSwitch(&g->asan_fake_stack, home->stack_bottom, home->stack_size);
  go_ctx_switch(&g->sp, home->sp);
  san::FinishSwitch(g->asan_fake_stack);
}

// Gives up the M while staying runnable (Gosched, preemption): the scheduler
// requeues g as `why` says, and g resumes here.
void SwitchOutRunnable(G* g, SwitchReason why) {
  g->status.store(GStatus::kRunnable, std::memory_order_relaxed);
  SwitchOut(g, why);
  g->status.store(GStatus::kRunning, std::memory_order_relaxed);
}

void GoroutineMain(void* arg) {
  // Deliberately not noexcept: an exception escaping the goroutine finds no
  // handler at all (the unwinder stops at go_ctx_trampoline, whose return
  // address is marked undefined), so __cxa_throw calls std::terminate before
  // any unwinding, and the terminate handler (panic.cc) reports it like a Go
  // panic with the throwing frames still on the stack. (With noexcept here,
  // GCC unwinds up to this frame first, running every cleanup on the way and
  // discarding the frames that say where the panic happened.)
  G* g = static_cast<G*>(arg);
  san::FinishSwitch(nullptr);
  san::Acquire(&g->tsan_sync);  // the `go` statement happens before the start
  g->invoke(g);
  g->destroy(g);
  if (g->bubble) g->bubble->Exited(g);  // still on g's fiber: may announce edges
  TraceHook(TraceKind::kEnd, g);
  SwitchOutFinal(g);
}

[[noreturn]] void SwitchOutFinal(G* g) {
  g->switch_reason.store(static_cast<int>(SwitchReason::kExit), std::memory_order_relaxed);
  SchedContext* home = g->home;
  san::SwitchToFiber(home->tsan_fiber);
  san::StartSwitch(nullptr, home->stack_bottom, home->stack_size);  // fiber dies
  void* dead_sp;
  go_ctx_switch(&dead_sp, home->sp);
  __builtin_trap();
}

}  // namespace

// ---------------------------------------------------------------------------
// Public-internal accessors.

Sched& sched() { return *g_sched; }
M* CurrentM() { return LoadM(); }
G* CurrentGoroutine() { return LoadG(); }

G* CurrentG() {
  if (G* g = LoadG()) return g;
  if (G* g = tls_thread_g) return g;
  EnsureStarted();
  G* g = AllocG();
  g->is_thread = true;
  g->id.store(-static_cast<int64_t>(syscall(SYS_gettid)), std::memory_order_relaxed);
  g->status.store(GStatus::kRunning, std::memory_order_relaxed);
  tls_thread_g = g;
  // Mark the thread G dead when the thread exits, so dumps skip it.
  struct Reaper {
    G* g;
    ~Reaper() { g->status.store(GStatus::kDead, std::memory_order_relaxed); }
  };
  thread_local Reaper reaper{g};
  (void)reaper;
  return g;
}

int64_t MonoNow() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t CoarseNow() {
  // The vDSO's coarse clock: a few ns instead of ~20, tick-grained. Good for
  // "waiting for 2 minutes" in dumps, and it keeps Park cheap.
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t WallNow() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

Bubble* CurrentBubble() {
  G* g = LoadG();
  return g ? g->bubble : nullptr;
}

int64_t Nanotime() {
  if (Bubble* b = CurrentBubble()) return b->Nanotime();
  return MonoNow();
}

int64_t Walltime() {
  if (Bubble* b = CurrentBubble()) {
    // 2000-01-01 00:00:00 UTC plus the bubble's virtual time.
    return 946684800LL * 1000000000LL + b->Nanotime();
  }
  return WallNow();
}

uint32_t Rand() {
  if (Bubble* b = CurrentBubble()) return b->Rand();
  if (M* m = LoadM()) return static_cast<uint32_t>(SplitMix(m->rand_state) >> 32);
  return ThreadRand();
}

uint32_t RandN(uint32_t n) {
  // Lemire's multiply-shift: unbiased enough for scheduling decisions.
  return static_cast<uint32_t>((static_cast<uint64_t>(Rand()) * n) >> 32);
}

PreemptState g_preempt;

void MaybePreemptSlow() {
  G* g = LoadG();
  if (!g) return;
  if (g->bubble) {
    g->bubble->MaybePreempt(g);
    return;
  }
  PreemptPointSlow();
}

void PreemptPointSlow() {
  // OwnedP is null inside a SyscallGuard, where the P may already belong to
  // another M (sysmon's handoff): only the guard's destructor may give this
  // goroutine up there.
  P* p = OwnedP();
  if (!p || !p->preempt.load(std::memory_order_relaxed)) return;
  G* g = LoadG();
  if (!g || g->bubble) return;
  p->preempt.store(false, std::memory_order_relaxed);
  SwitchOutRunnable(g, SwitchReason::kPreempt);
}

bool CanSpin(int iter) {
  if (iter >= 4) return false;
  static const unsigned ncpu = std::thread::hardware_concurrency();
  if (ncpu <= 1) return false;
  G* g = LoadG();
  M* m = LoadM();
  if (!g || !m || !m->p || g->bubble) return false;
  Sched& s = sched();
  if (s.gomaxprocs.load(std::memory_order_relaxed) <=
      s.npidle.load(std::memory_order_relaxed) + s.nmspinning.load(std::memory_order_relaxed) + 1) {
    return false;
  }
  return RunqEmpty(m->p);
}

void DoSpin() {
  for (int i = 0; i < 30; i++) CpuRelax();
}

int CurrentP() {
  G* g = LoadG();
  M* m = LoadM();
  if (!g || !m || !m->p || g->bubble) return -1;
  return m->p->id;
}

P* OwnedP() {
  M* m = LoadM();
  if (m == nullptr || m->oldp != nullptr) return nullptr;
  return m->p;
}

int NumProcSlots() { return kMaxProcs; }

void InitSchedContextHere(SchedContext* ctx) {
  ctx->tsan_fiber = san::CurrentFiber();
  if (G* g = LoadG()) {
    ctx->stack_bottom = g->stack.lo;
    ctx->stack_size = static_cast<size_t>(g->stack.hi - g->stack.lo);
    return;
  }
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr;
    size_t size;
    pthread_attr_getstack(&attr, &addr, &size);
    ctx->stack_bottom = addr;
    ctx->stack_size = size;
    pthread_attr_destroy(&attr);
  }
}

SwitchReason RunFiber(SchedContext* ctx, G* g) {
  G* outer = LoadG();
  for (;;) {
    g->home = ctx;
    if (!g->sp) {
      M* m = LoadM();
      g->stack = GetStack(m ? m->p : nullptr);
      san::Unpoison(g->stack.lo, static_cast<size_t>(g->stack.hi - g->stack.lo));
      g->sp = MakeContext(g->stack.hi, &GoroutineMain, g);
      g->tsan_fiber = TakeTsanFiber();
    }
    StoreG(g);
    TraceHook(TraceKind::kStart, g);
    // TSan: the M that ran g's park commit may not have left g's TSan fiber
    // yet (the commit made g runnable); one fiber on two threads aborts TSan.
    while (g->tsan_in_commit.load(std::memory_order_acquire) != 0) sched_yield();
    san::SwitchToFiber(g->tsan_fiber);
    san::StartSwitch(&ctx->asan_fake_stack, g->stack.lo,
                     static_cast<size_t>(g->stack.hi - g->stack.lo));
    go_ctx_switch(&ctx->sp, g->sp);
    san::FinishSwitch(ctx->asan_fake_stack);
    StoreG(outer);
    TraceHook(TraceKind::kStop, g);
    // A canary stack cannot fault on overflow: check it at every switch-out.
    if (!StackIntact(g->stack, g->sp)) StackOverflow(g);
    auto why = static_cast<SwitchReason>(g->switch_reason.load(std::memory_order_relaxed));
    if (why == SwitchReason::kPark) {
      auto commit = g->park_commit.load(std::memory_order_relaxed);
      bool stay = true;
      if (commit) {
        // The commit is the last step of g's park: TSan attributes it to g.
        // Once the commit releases the primitive's lock another M may resume
        // g; tsan_in_commit makes it wait until this M has left g's fiber.
        const bool tsan = san::TsanActive();
        if (tsan) g->tsan_in_commit.store(1, std::memory_order_relaxed);
        san::SwitchToFiber(g->tsan_fiber);
        stay = commit(g, g->park_arg.load(std::memory_order_relaxed));
        san::SwitchToFiber(ctx->tsan_fiber);
        if (tsan) g->tsan_in_commit.store(0, std::memory_order_release);
      }
      if (!stay) {
        g->status.store(GStatus::kRunning, std::memory_order_relaxed);
        continue;  // park cancelled: resume at once
      }
    }
    return why;
  }
}

void FreeDeadG(G* g) {
  M* m = LoadM();
  P* p = m ? m->p : nullptr;
  GiveBackTsanFiber(g->tsan_fiber);
  g->tsan_fiber = nullptr;
  PutStack(p, g->stack);
  g->stack = Stack{};
  g->sp = nullptr;
  g->bubble = nullptr;
  g->status.store(GStatus::kDead, std::memory_order_release);
  if (p) {
    p->gexited.store(p->gexited.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  } else {
    sched().gexited_nop.fetch_add(1, std::memory_order_relaxed);
  }
  GfPut(p, g);
}

// ---------------------------------------------------------------------------
// Run queues [S1].

bool RunqEmpty(P* p) {
  for (;;) {
    uint32_t h = p->runq_head.load(std::memory_order_acquire);
    uint32_t t = p->runq_tail.load(std::memory_order_acquire);
    G* next = p->runnext.load(std::memory_order_acquire);
    if (t == p->runq_tail.load(std::memory_order_acquire)) return h == t && next == nullptr;
  }
}

void GlobRunqPut(G* g) {
  Sched& s = sched();
  g->schedlink = nullptr;
  if (s.runq_tail) {
    s.runq_tail->schedlink = g;
  } else {
    s.runq_head = g;
  }
  s.runq_tail = g;
  s.runq_size.fetch_add(1, std::memory_order_relaxed);
}

namespace {

void GlobRunqPutBatch(G* head, G* tail, int n) {
  Sched& s = sched();
  tail->schedlink = nullptr;
  if (s.runq_tail) {
    s.runq_tail->schedlink = head;
  } else {
    s.runq_head = head;
  }
  s.runq_tail = tail;
  s.runq_size.fetch_add(n, std::memory_order_relaxed);
}

// Moves half of a full local queue plus g to the global queue.
bool RunqPutSlow(P* p, G* g, uint32_t h, uint32_t t) {
  G* batch[kRunqSize / 2 + 1];
  uint32_t n = (t - h) / 2;
  for (uint32_t i = 0; i < n; i++) {
    batch[i] = p->runq[(h + i) % kRunqSize].load(std::memory_order_relaxed);
  }
  if (!p->runq_head.compare_exchange_strong(h, h + n, std::memory_order_release,
                                            std::memory_order_relaxed)) {
    return false;
  }
  batch[n] = g;
  for (uint32_t i = 0; i < n; i++) batch[i]->schedlink = batch[i + 1];
  LockGuard l(sched().lock);
  GlobRunqPutBatch(batch[0], batch[n], static_cast<int>(n + 1));
  return true;
}

// Takes up to half of p's queue into batch[batch_head...]; returns the count.
uint32_t RunqGrab(P* p, std::atomic<G*>* batch, uint32_t batch_head, bool steal_runnext) {
  for (;;) {
    uint32_t h = p->runq_head.load(std::memory_order_acquire);
    uint32_t t = p->runq_tail.load(std::memory_order_acquire);
    uint32_t n = t - h;
    n = n - n / 2;
    if (n == 0) {
      if (steal_runnext) {
        G* next = p->runnext.load(std::memory_order_acquire);
        if (next && p->status.load(std::memory_order_acquire) == PStatus::kRunning) {
          // The owner has just readied `next` (a hand-off: a channel send,
          // an Unlock) and is probably about to block and run it itself.
          // Stealing it now would move the partner to this M and turn every
          // hand-off into a wake-up plus a sleep. Back off first, as Go's
          // runqgrab does (usleep(3); with timer slack, tens of us).
          usleep(3);
          next = p->runnext.load(std::memory_order_acquire);
        }
        if (next && p->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) {
          batch[batch_head % kRunqSize].store(next, std::memory_order_relaxed);
          return 1;
        }
      }
      return 0;
    }
    if (n > kRunqSize / 2) continue;  // read an inconsistent h and t
    for (uint32_t i = 0; i < n; i++) {
      G* g = p->runq[(h + i) % kRunqSize].load(std::memory_order_relaxed);
      batch[(batch_head + i) % kRunqSize].store(g, std::memory_order_relaxed);
    }
    if (p->runq_head.compare_exchange_strong(h, h + n, std::memory_order_release,
                                             std::memory_order_relaxed)) {
      return n;
    }
  }
}

G* RunqSteal(P* p, P* victim, bool steal_runnext) {
  uint32_t t = p->runq_tail.load(std::memory_order_relaxed);
  uint32_t n = RunqGrab(victim, p->runq, t, steal_runnext);
  if (n == 0) return nullptr;
  n--;
  G* g = p->runq[(t + n) % kRunqSize].load(std::memory_order_relaxed);
  if (n == 0) return g;
  p->runq_tail.store(t + n, std::memory_order_release);
  return g;
}

// Takes a batch from the global queue: returns one G, puts the rest locally.
G* GlobRunqGet(P* p, int max) {
  Sched& s = sched();
  int size = s.runq_size.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  int n = size / s.gomaxprocs.load(std::memory_order_relaxed) + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > static_cast<int>(kRunqSize / 2)) n = kRunqSize / 2;
  s.runq_size.fetch_sub(n, std::memory_order_relaxed);
  G* g = s.runq_head;
  s.runq_head = g->schedlink;
  if (!s.runq_head) s.runq_tail = nullptr;
  for (int i = 1; i < n; i++) {
    G* x = s.runq_head;
    s.runq_head = x->schedlink;
    if (!s.runq_head) s.runq_tail = nullptr;
    RunqPut(p, x, false);
  }
  return g;
}

}  // namespace

void RunqPut(P* p, G* g, bool next) {
  if (next) {
    G* old = p->runnext.exchange(g, std::memory_order_acq_rel);
    if (!old) return;
    g = old;  // kick the old runnext to the tail
  }
  for (;;) {
    uint32_t h = p->runq_head.load(std::memory_order_acquire);
    uint32_t t = p->runq_tail.load(std::memory_order_relaxed);
    if (t - h < kRunqSize) {
      p->runq[t % kRunqSize].store(g, std::memory_order_relaxed);
      p->runq_tail.store(t + 1, std::memory_order_release);
      return;
    }
    if (RunqPutSlow(p, g, h, t)) return;
  }
}

G* RunqGet(P* p) {
  G* next = p->runnext.load(std::memory_order_relaxed);
  if (next && p->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) {
    return next;
  }
  for (;;) {
    uint32_t h = p->runq_head.load(std::memory_order_acquire);
    uint32_t t = p->runq_tail.load(std::memory_order_relaxed);
    if (t == h) return nullptr;
    G* g = p->runq[h % kRunqSize].load(std::memory_order_relaxed);
    if (p->runq_head.compare_exchange_weak(h, h + 1, std::memory_order_release,
                                           std::memory_order_relaxed)) {
      return g;
    }
  }
}

// ---------------------------------------------------------------------------
// Idle Ps and Ms [S2][S3].

P* PidleGet() {
  Sched& s = sched();
  P* p = s.pidle;
  if (p) {
    s.pidle = p->link;
    p->link = nullptr;
    s.npidle.fetch_sub(1, std::memory_order_relaxed);
  }
  return p;
}

void PidlePut(P* p) {
  Sched& s = sched();
  p->status.store(PStatus::kIdle, std::memory_order_release);
  p->link = s.pidle;
  s.pidle = p;
  s.npidle.fetch_add(1, std::memory_order_relaxed);
}

namespace {

M* MidleGet() {
  Sched& s = sched();
  M* m = s.midle;
  if (m) {
    s.midle = m->schedlink;
    m->schedlink = nullptr;
    s.nmidle--;
  }
  return m;
}

void MidleRemove(M* m) {
  Sched& s = sched();
  for (M** pp = &s.midle; *pp; pp = &(*pp)->schedlink) {
    if (*pp == m) {
      *pp = m->schedlink;
      m->schedlink = nullptr;
      s.nmidle--;
      return;
    }
  }
}

void ScheduleLoop(M* m);

void MMain(M* m) {
  tls_m = m;
  InitSignalStackForThread();
  InitSchedContextHere(&m->g0);
  m->rand_state = reinterpret_cast<uintptr_t>(m) ^ static_cast<uint64_t>(MonoNow());
  if (P* p = m->nextp.exchange(nullptr, std::memory_order_acquire)) AcquireP(m, p);
  ScheduleLoop(m);
}

void NewM(P* p, bool spinning) {
  Sched& s = sched();
  M* m = new M;
  {
    LockGuard l(s.lock);
    m->id = s.mcount++;
  }
  m->spinning = spinning;
  m->nextp.store(p, std::memory_order_relaxed);  // pthread_create publishes both
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 1 << 20);
  pthread_t tid;
  int rc = pthread_create(
      &tid, &attr,
      [](void* arg) -> void* {
        MMain(static_cast<M*>(arg));
        return nullptr;
      },
      m);
  pthread_attr_destroy(&attr);
  if (rc != 0) Fatal("runtime: failed to create new OS thread", false);
}

// Resets m->spinning; if it was the last spinner, wake another [S4].
void ResetSpinning(M* m) {
  m->spinning = false;
  int n = sched().nmspinning.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if (n < 0) Fatal("runtime: negative nmspinning", false);
  WakeP();
}

}  // namespace

// Called with s.lock held; releases it. Gives p to an idle M (or a new one).
// The P is handed over in the same critical section that takes the M off the
// idle list. An idle M may be the timed sleeper, whose Sleep can time out at
// any moment: it then checks nextp under this lock, and must see either
// "still idle, no P" or "removed, here is your P", never a half-done
// hand-off (it would re-park or pick another P while we later write
// nextp/spinning into a running M: a lost P and a leaked nmspinning).
static void HandPToMLocked(P* p, bool spinning) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Sched& s = sched();
  M* m = MidleGet();
  if (!m) {
    s.lock.unlock();
    NewM(p, spinning);
    return;
  }
  m->spinning = spinning;
  m->nextp.store(p, std::memory_order_release);  // publishes spinning too
  s.lock.unlock();
  m->park.Wakeup();
}

void StartM(P* p, bool spinning) {
  Sched& s = sched();
  s.lock.lock();
  if (!p) {
    p = PidleGet();
    if (!p) {
      s.lock.unlock();
      if (spinning) s.nmspinning.fetch_sub(1, std::memory_order_acq_rel);
      return;
    }
  }
  HandPToMLocked(p, spinning);
}

void WakeP() {
  Sched& s = sched();
  if (s.npidle.load(std::memory_order_acquire) == 0) return;
  if (s.nmspinning.load(std::memory_order_acquire) != 0) return;
  int32_t zero = 0;
  if (!s.nmspinning.compare_exchange_strong(zero, 1, std::memory_order_acq_rel)) return;
  StartM(nullptr, true);
}

// Called with s.lock held, after work went on the global queue from a
// context that holds no P; releases s.lock. If a P is idle, hands it to an M
// right away [S7]. Relying on WakeP here would lose a wake-up: WakeP trusts a
// nonzero nmspinning to mean "a spinner will look", but a WakeP that is about
// to fail to find a P counts as a spinner too, and the M that idles a P in
// that window re-checks only what it saw before our put.
void StartIdleLocked() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Sched& s = sched();
  P* p = s.runq_size.load(std::memory_order_relaxed) > 0 ? PidleGet() : nullptr;
  if (!p) {
    s.lock.unlock();
    return;
  }
  HandPToMLocked(p, false);
}

namespace {
int64_t EarliestTimer();
}  // namespace

// [S6] A timer due at `when` is now in some P's heap: wake the timed sleeper
// if it sleeps past `when`, or, when every P is idle and nobody spins, start
// an M that will (it becomes the timed sleeper in StopM). If some M holds a
// P, that M computes the earliest timer when it next goes idle.
void EnsureTimerWatcherFor(int64_t when) {
  Sched& s = sched();
  if (when == TimerHeap::kNever) return;
  // Dekker with StopM, which publishes poll_until = LLONG_MAX ("computing")
  // and then reads every heap: our heap add must be ordered before this load.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const int64_t until = s.poll_until.load(std::memory_order_seq_cst);
  if (when >= until) return;
  // No timed sleeper (or one still computing, which will see the timer) and
  // some P is held: its M computes the earliest timer when it next idles.
  // The locked path below would conclude the same; skipping it keeps s.lock
  // out of every NewTimer (timer_create_stop at 16 Ps queued on it).
  if (until == LLONG_MAX &&
      s.npidle.load(std::memory_order_seq_cst) < s.gomaxprocs.load(std::memory_order_acquire)) {
    return;
  }
  M* wake = nullptr;
  s.lock.lock();
  if (s.timed_sleeper) {
    wake = s.timed_sleeper;
  } else if (s.npidle.load() >= s.gomaxprocs.load() && s.nmspinning.load() == 0) {
    if (P* ip = PidleGet()) {
      HandPToMLocked(ip, false);  // unlocks
      return;
    }
  }
  s.lock.unlock();
  if (wake) wake->park.Wakeup();
}

void EnsureTimerWatcher() { EnsureTimerWatcherFor(EarliestTimer()); }

void GlobRunqInject(G* g) {
  Sched& s = sched();
  s.lock.lock();
  GlobRunqPut(g);
  StartIdleLocked();
}

// Retires a P that GOMAXPROCS removed and that no M holds (Go's p.destroy):
// its runnable Gs go to the global queue, its timers to P 0, its free Gs to
// the global free list, its cached stacks back to the pool. Called with
// s.lock held; follow with DestroyedPsDoneLocked once every such P is done.
static void DestroyPLocked(P* p) {
  Sched& s = sched();
  while (G* g = RunqGet(p)) GlobRunqPut(g);
  p->timers.MoveAllTo(&s.allp[0]->timers);
  {
    LockGuard l(s.gfree_lock);
    while (G* g = p->gfree) {
      p->gfree = g->schedlink;
      GfPutGlobalLocked(g);
    }
    p->ngfree = 0;
  }
  StackFreeBatch(p->stack_cache.data(), p->stack_cache.size());
  p->stack_cache.clear();
  SmallCacheFlush(&p->small_cache);
  p->status.store(PStatus::kDead, std::memory_order_release);
}

// Releases s.lock after DestroyPLocked: the Gs that went global get a P that
// is still in play [S7], the timers that went to P 0 an M that watches them.
static void DestroyedPsDoneLocked() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  StartIdleLocked();
  EnsureTimerWatcher();
}

void HandoffP(P* p) {
  Sched& s = sched();
  // (An M handed a P that GOMAXPROCS has just removed retires it itself, at
  // the top of FindRunnable; only the idle-list path must check under s.lock.)
  if (!RunqEmpty(p) || s.runq_size.load(std::memory_order_relaxed) > 0) {
    StartM(p, false);
    return;
  }
  if (s.nmspinning.load() + s.npidle.load() == 0) {
    int32_t zero = 0;
    if (s.nmspinning.compare_exchange_strong(zero, 1)) {
      StartM(p, true);
      return;
    }
  }
  s.lock.lock();
  if (p->id >= s.gomaxprocs.load(std::memory_order_relaxed)) {
    // Retired by GOMAXPROCS while in a system call. Checked under s.lock,
    // where SetMaxProcs changes the limit: an idle P beyond it would inflate
    // npidle forever (and AddTimer would think some M still runs).
    DestroyPLocked(p);
    DestroyedPsDoneLocked();
    return;
  }
  PidlePut(p);
  s.lock.unlock();
  // A timer on this P may need an M to wait for it.
  if (p->timers.NextWhen() != TimerHeap::kNever) WakeP();
}

// ---------------------------------------------------------------------------
// The schedule loop.

namespace {

// Runs expired timers of every P (cheap: one atomic load per P when idle).
void RunAllTimers() {
  Sched& s = sched();
  int n = s.gomaxprocs.load(std::memory_order_acquire);
  int64_t now = 0;  // read the clock only if some heap has a timer
  for (int i = 0; i < n; i++) {
    P* p = s.allp[i];
    if (!p || p->timers.NextWhen() == TimerHeap::kNever) continue;
    if (now == 0) now = MonoNow();
    p->timers.Run(now);
  }
}

// Runs p's expired timers. The common case, no timers at all, costs one
// atomic load and no clock read (Go's checkTimers does the same).
void RunOwnTimers(P* p) {
  if (p->timers.NextWhen() != TimerHeap::kNever) p->timers.Run(MonoNow());
}

int64_t EarliestTimer() {
  Sched& s = sched();
  int64_t w = TimerHeap::kNever;
  int n = s.gomaxprocs.load(std::memory_order_acquire);
  for (int i = 0; i < n; i++) {
    if (P* p = s.allp[i]) {
      int64_t x = p->timers.NextWhen();
      if (x < w) w = x;
    }
  }
  return w;
}

// Gives up a P that GOMAXPROCS removed.
void RetireP(M* m) {
  Sched& s = sched();
  P* p = ReleaseP(m);
  s.lock.lock();
  DestroyPLocked(p);
  DestroyedPsDoneLocked();
}

// Parks m on the idle list until startm hands it a P or (as the timed
// sleeper) the next timer is due. Returns with m->p set or null.
void StopM(M* m) {
  Sched& s = sched();
  s.lock.lock();
  s.poll_until.store(LLONG_MAX, std::memory_order_seq_cst);  // "computing": AddTimer wakes us
  int64_t until = EarliestTimer();
  bool timed = false;
  M* rewake = nullptr;
  if (until != TimerHeap::kNever && (!s.timed_sleeper || s.timed_sleeper == m)) {
    s.timed_sleeper = m;
    s.sleeper_until = until;
    timed = true;
    s.poll_until.store(until, std::memory_order_seq_cst);
  } else if (s.timed_sleeper) {
    // Someone else watches the timers: restore its deadline (what AddTimer
    // compares against), and if a timer is due before it, wake it to look.
    s.poll_until.store(s.sleeper_until, std::memory_order_seq_cst);
    if (until < s.sleeper_until) rewake = s.timed_sleeper;
  }
  m->schedlink = s.midle;
  s.midle = m;
  s.nmidle++;
  s.lock.unlock();
  if (rewake) rewake->park.Wakeup();

  int64_t wait = -1;
  if (timed) {
    wait = until - MonoNow();
    if (wait < 0) wait = 0;
  }
  m->park.Sleep(wait);

  if (!timed) {
    // An untimed sleeper is woken by HandPToMLocked, which took it off the
    // idle list and published nextp (release) before the Wakeup: no need
    // for s.lock (Go's stopm takes none either). A leftover Wakeup from an
    // earlier timed sleep, or a timer rewake meant for the M we were then,
    // finds nextp empty and goes the locked way below. At 16 Ps, this lock
    // after every wake-up made Ms cycling between idle and spinning queue
    // on s.lock behind the goroutine that was readying work.
    if (P* p = m->nextp.exchange(nullptr, std::memory_order_acquire)) {
      AcquireP(m, p);
      return;
    }
  }
  s.lock.lock();
  if (s.timed_sleeper == m) {
    s.timed_sleeper = nullptr;
    s.poll_until.store(LLONG_MAX, std::memory_order_seq_cst);
  }
  if (P* p = m->nextp.exchange(nullptr, std::memory_order_acquire)) {
    // StartM removed us from the idle list and handed us a P (both under
    // s.lock). If our timed Sleep ran out first, its Wakeup is still to come:
    // a later Sleep returns at once, finds no nextp and parks again.
    s.lock.unlock();
    AcquireP(m, p);
    return;
  }
  MidleRemove(m);
  // Timed out (or woken for a timer): run due timers, then try for a P.
  s.lock.unlock();
  RunAllTimers();
  s.lock.lock();
  P* p = PidleGet();
  s.lock.unlock();
  if (p) AcquireP(m, p);
}

G* FindRunnable(M* m) {
  Sched& s = sched();
  for (;;) {
    while (!m->p) StopM(m);
    P* p = m->p;
    if (p->id >= s.gomaxprocs.load(std::memory_order_acquire)) {
      if (m->spinning) ResetSpinning(m);
      RetireP(m);
      continue;
    }
    RunOwnTimers(p);
    // Fairness: every 61 ticks look at the global queue first.
    if (p->schedtick.load(std::memory_order_relaxed) % 61 == 0 && s.runq_size.load(std::memory_order_relaxed) > 0) {
      LockGuard l(s.lock);
      if (G* g = GlobRunqGet(p, 1)) return g;
    }
    if (G* g = RunqGet(p)) return g;
    if (s.runq_size.load(std::memory_order_relaxed) > 0) {
      LockGuard l(s.lock);
      if (G* g = GlobRunqGet(p, 0)) return g;
    }
    // Steal: only while spinners are fewer than half the busy Ps [S4].
    const int procs = s.gomaxprocs.load(std::memory_order_acquire);
    if (m->spinning ||
        2 * s.nmspinning.load(std::memory_order_acquire) <
            procs - s.npidle.load(std::memory_order_acquire)) {
      if (!m->spinning) {
        m->spinning = true;
        s.nmspinning.fetch_add(1, std::memory_order_acq_rel);
      }
      RunAllTimers();
      if (G* g = RunqGet(p)) return g;
      for (int round = 0; round < 4; round++) {
        const bool last = round == 3;
        // Random victim order: start anywhere, step by a fixed stride.
        uint32_t start = RandN(static_cast<uint32_t>(procs));
        for (int i = 0; i < procs; i++) {
          P* victim = s.allp[(start + static_cast<uint32_t>(i)) % static_cast<uint32_t>(procs)];
          if (!victim || victim == p) continue;
          if (victim->status.load(std::memory_order_acquire) == PStatus::kDead) continue;
          if (G* g = RunqSteal(p, victim, last)) return g;
        }
      }
    }
    // Nothing to do: give up the P.
    s.lock.lock();
    if (s.runq_size.load(std::memory_order_relaxed) > 0) {
      G* g = GlobRunqGet(p, 0);
      s.lock.unlock();
      if (g) return g;
      continue;
    }
    if (p->id >= s.gomaxprocs.load(std::memory_order_relaxed)) {
      // GOMAXPROCS shrank since the check at the top: retire p there rather
      // than put a P beyond the limit on the idle list (SetMaxProcs, which
      // changes the limit under s.lock, has already swept that list).
      s.lock.unlock();
      continue;
    }
    ReleaseP(m);
    PidlePut(p);
    s.lock.unlock();
    const bool was_spinning = m->spinning;
    if (m->spinning) {
      m->spinning = false;
      s.nmspinning.fetch_sub(1, std::memory_order_acq_rel);
    }
    // Re-check every run queue after dropping spinning: work submitted just
    // before we dropped out must not be stranded [S4].
    bool found = s.runq_size.load(std::memory_order_acquire) > 0;
    for (int i = 0; i < procs && !found; i++) {
      P* pp = s.allp[i];
      if (pp && pp->status.load(std::memory_order_acquire) != PStatus::kDead && !RunqEmpty(pp)) {
        found = true;
      }
    }
    if (found) {
      s.lock.lock();
      P* np = PidleGet();
      s.lock.unlock();
      if (np) {
        AcquireP(m, np);
        if (was_spinning) {
          m->spinning = true;
          s.nmspinning.fetch_add(1, std::memory_order_acq_rel);
        }
        continue;
      }
    }
    StopM(m);
  }
}

void ExitSyscallBlocked(M* m, G* g);

void Execute(M* m, G* g) {
  P* p = m->p;
  p->schedtick.store(p->schedtick.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // A request made for the goroutine that ran before does not carry over.
  if (p->preempt.load(std::memory_order_relaxed)) p->preempt.store(false, std::memory_order_relaxed);
  m->curg = g;
  g->m = m;
  g->status.store(GStatus::kRunning, std::memory_order_relaxed);
  SwitchReason why = RunFiber(&m->g0, g);
  m->curg = nullptr;
  switch (why) {
    case SwitchReason::kPark:
      break;
    case SwitchReason::kYield: {
      g->status.store(GStatus::kRunnable, std::memory_order_relaxed);
      // Nothing else could run here (no local or global work, no timer, P
      // not retiring): FindRunnable would pick g again, so skip the queue
      // round trip. The yield still goes through g0, as Go's does.
      Sched& s = sched();
      if (RunqEmpty(p) && s.runq_size.load(std::memory_order_relaxed) == 0 &&
          p->timers.NextWhen() == TimerHeap::kNever &&
          p->id < s.gomaxprocs.load(std::memory_order_relaxed)) {
        m->rerun = g;
      } else {
        RunqPut(p, g, false);
      }
      break;
    }
    case SwitchReason::kPreempt: {
      // Go's gopreempt_m: to the back of the global queue, so that what
      // waited here, and what overflowed to the global queue meanwhile,
      // runs before the preempted goroutine does again.
      g->status.store(GStatus::kRunnable, std::memory_order_relaxed);
      LockGuard l(sched().lock);
      GlobRunqPut(g);
      break;
    }
    case SwitchReason::kExit:
      FreeDeadG(g);
      break;
    case SwitchReason::kSyscallBlocked:
      ExitSyscallBlocked(m, g);
      break;
  }
}

// Starts loading what the next goroutines on p's queue will touch first:
// the next one's saved frame (go_ctx_switch pops it, and the goroutine
// resumes in the frames just above), and the G record of the one after it
// (whose saved sp the next call reads). A queue of woken goroutines (a
// cancelled context tree, a closed channel with many receivers) otherwise
// switches into one cold stack page after another, each a cache and TLB
// miss that nothing overlaps. It looks at the ring only: runnext, which runs
// first when set, is usually a hand-off partner whose stack is still warm
// (prefetching it too measured no better). Only hints: the entries may be
// taken by a thief meanwhile, and G records are never freed, so a stale one
// is harmless.
void PrefetchQueued(P* p) {
  const uint32_t h = p->runq_head.load(std::memory_order_relaxed);
  const uint32_t t = p->runq_tail.load(std::memory_order_relaxed);
  const uint32_t n = t - h;
  if (n == 0 || n > kRunqSize) return;
  if (G* next = p->runq[h % kRunqSize].load(std::memory_order_relaxed)) {
    if (auto* sp = static_cast<const char*>(std::atomic_ref<void*>(next->sp).load(std::memory_order_relaxed))) {
      for (int line = 0; line < 4; line++) __builtin_prefetch(sp + 64 * line);
    }
  }
  if (n >= 2) {
    if (G* after = p->runq[(h + 1) % kRunqSize].load(std::memory_order_relaxed)) {
      __builtin_prefetch(&after->sp);
    }
  }
}

void ScheduleLoop(M* m) {
  for (;;) {
    G* g = m->rerun;
    if (g) {
      m->rerun = nullptr;
    } else {
      g = FindRunnable(m);
      if (m->spinning) ResetSpinning(m);
      PrefetchQueued(m->p);
    }
    Execute(m, g);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Goroutine creation, parking, readying.

G* NewG(std::source_location where) {
  EnsureStarted();
  M* m = LoadM();
  G* parent = LoadG();
  P* p = m ? m->p : nullptr;
  G* g = GfGet(p);
  g->id.store(NextGoid(p), std::memory_order_relaxed);
  g->created_file.store(where.file_name(), std::memory_order_relaxed);
  g->created_func.store(where.function_name(), std::memory_order_relaxed);
  g->created_line.store(where.line(), std::memory_order_relaxed);
  g->created_by.store(parent ? parent->id.load(std::memory_order_relaxed) : 0,
                      std::memory_order_relaxed);
  g->bubble = parent ? parent->bubble : nullptr;
  g->wait_reason.store(WaitReason::kNone, std::memory_order_relaxed);
  g->param = nullptr;
  return g;
}

void StartG(G* g) {
  g->status.store(GStatus::kRunnable, std::memory_order_relaxed);
  san::Release(&g->tsan_sync);
  M* m = LoadM();
  P* p = m ? m->p : nullptr;
  if (p) {
    p->gstarted.store(p->gstarted.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  } else {
    sched().gstarted_nop.fetch_add(1, std::memory_order_relaxed);
  }
  if (g->bubble) {
    g->bubble->Spawned(g);  // assigns bubble_seq, which the trace records
    TraceHook(TraceKind::kCreate, g, g->created_by.load(std::memory_order_relaxed));
    return;
  }
  TraceHook(TraceKind::kCreate, g, g->created_by.load(std::memory_order_relaxed));
  if (p && LoadG()) {
    RunqPut(p, g, true);
    WakeP();
  } else {
    GlobRunqInject(g);
  }
}

namespace {

void ThreadPark(G* g, ParkCommit commit, void* arg) {
  g->status.store(GStatus::kWaiting, std::memory_order_relaxed);
  if (commit && !commit(g, arg)) {
    g->status.store(GStatus::kRunning, std::memory_order_relaxed);
    return;
  }
  while (g->thread_permit.exchange(0, std::memory_order_acquire) == 0) {
    FutexWait(&g->thread_permit, 0);
  }
  g->status.store(GStatus::kRunning, std::memory_order_relaxed);
}

}  // namespace

void Park(ParkCommit commit, void* arg, WaitReason reason, std::source_location where) {
  G* g = CurrentG();
  g->wait_reason.store(reason, std::memory_order_relaxed);
  g->wait_since.store(CoarseNow(), std::memory_order_relaxed);
  g->blocked_file.store(where.file_name(), std::memory_order_relaxed);
  g->blocked_func.store(where.function_name(), std::memory_order_relaxed);
  g->blocked_line.store(where.line(), std::memory_order_relaxed);
  TraceHook(TraceKind::kPark, g);
  if (g->is_thread) {
    ThreadPark(g, commit, arg);
  } else {
    g->status.store(GStatus::kWaiting, std::memory_order_relaxed);
    g->park_commit.store(commit, std::memory_order_relaxed);
    g->park_arg.store(arg, std::memory_order_relaxed);
    SwitchOut(g, SwitchReason::kPark);
  }
  san::Acquire(&g->tsan_sync);  // whatever the waker did happens before now
  g->wait_reason.store(WaitReason::kNone, std::memory_order_relaxed);
}

void Ready(G* g) {
  san::Release(&g->tsan_sync);
  if (g_trace_on.load(std::memory_order_relaxed)) {
    G* waker = LoadG();
    TraceRecord(TraceKind::kUnpark, g, waker ? waker->id.load(std::memory_order_relaxed) : 0);
  }
  if (g->is_thread) {
    g->thread_permit.store(1, std::memory_order_release);
    FutexWake(&g->thread_permit, 1);
    return;
  }
  if (g->bubble) {
    g->bubble->Ready(g);
    return;
  }
  g->status.store(GStatus::kRunnable, std::memory_order_relaxed);
  M* m = LoadM();
  if (m && m->p) {
    RunqPut(m->p, g, true);
    WakeP();
  } else {
    GlobRunqInject(g);
  }
}

void Yield() {
  G* g = LoadG();
  if (!g) {
    sched_yield();
    return;
  }
  SwitchOutRunnable(g, SwitchReason::kYield);
}

int NumGoroutine() {
  EnsureStarted();
  Sched& s = sched();
  int64_t n = s.gstarted_nop.load(std::memory_order_relaxed) -
              s.gexited_nop.load(std::memory_order_relaxed);
  for (P* p : s.allp) {
    if (!p) break;
    n += p->gstarted.load(std::memory_order_relaxed) - p->gexited.load(std::memory_order_relaxed);
  }
  return static_cast<int>(n);
}

int MaxProcs() {
  EnsureStarted();
  return sched().gomaxprocs.load(std::memory_order_acquire);
}

int SetMaxProcs(int n) {
  EnsureStarted();
  Sched& s = sched();
  if (n <= 0) return s.gomaxprocs.load(std::memory_order_acquire);
  if (n > kMaxProcs) n = kMaxProcs;
  int old;
  {
    LockGuard l(s.lock);
    old = s.gomaxprocs.load(std::memory_order_acquire);
    if (n > old) {
      for (int i = old; i < n; i++) {
        if (!s.allp[i]) {
          s.allp[i] = new P;
          s.allp[i]->id = i;
        }
        // A P still held by a system call from an earlier shrink comes back
        // when that call returns; only dead ones go to the idle list.
        if (s.allp[i]->status.load(std::memory_order_acquire) == PStatus::kDead) {
          PidlePut(s.allp[i]);
        }
      }
      s.gomaxprocs.store(n, std::memory_order_release);
    } else if (n < old) {
      s.gomaxprocs.store(n, std::memory_order_release);
      // Idle Ps beyond n die now; running ones retire at their next schedule.
      P** pp = &s.pidle;
      while (*pp) {
        P* p = *pp;
        if (p->id >= n) {
          *pp = p->link;
          p->link = nullptr;
          s.npidle.fetch_sub(1, std::memory_order_relaxed);
          DestroyPLocked(p);
        } else {
          pp = &p->link;
        }
      }
    }
  }
  if (n > old) {
    for (int i = old; i < n; i++) WakeP();
  } else if (n < old) {
    s.lock.lock();
    DestroyedPsDoneLocked();
  }
  return old;
}

// ---------------------------------------------------------------------------
// System calls.

SyscallGuard::SyscallGuard(std::source_location where) : active_(false) {
  G* g = LoadG();
  M* m = LoadM();
  if (!g || !m || !m->p || g->bubble) return;
  active_ = true;
  g->blocked_file.store(where.file_name(), std::memory_order_relaxed);
  g->blocked_func.store(where.function_name(), std::memory_order_relaxed);
  g->blocked_line.store(where.line(), std::memory_order_relaxed);
  g->wait_since.store(MonoNow(), std::memory_order_relaxed);
  g->status.store(GStatus::kSyscall, std::memory_order_relaxed);
  P* p = m->p;
  m->oldp = p;
  p->syscall_since.store(MonoNow(), std::memory_order_relaxed);
  p->status.store(PStatus::kSyscall, std::memory_order_release);
}

SyscallGuard::~SyscallGuard() {
  if (!active_) return;
  G* g = LoadG();
  M* m = LoadM();
  P* p = m->oldp;
  m->oldp = nullptr;
  PStatus expected = PStatus::kSyscall;
  if (p->status.compare_exchange_strong(expected, PStatus::kRunning, std::memory_order_acq_rel)) {
    // Fast path: nobody took our P.
    g->status.store(GStatus::kRunning, std::memory_order_relaxed);
    return;
  }
  // sysmon handed our P to another M. Try any idle P, else queue ourselves.
  m->p = nullptr;
  Sched& s = sched();
  s.lock.lock();
  P* np = (s.gomaxprocs.load() > 0) ? PidleGet() : nullptr;
  s.lock.unlock();
  if (np) {
    AcquireP(m, np);
    g->status.store(GStatus::kRunning, std::memory_order_relaxed);
    return;
  }
  SwitchOut(g, SwitchReason::kSyscallBlocked);
  g->status.store(GStatus::kRunning, std::memory_order_relaxed);
}

namespace {

void ExitSyscallBlocked(M* m, G* g) {
  // On g0 of the M whose P was taken: queue g globally; this M then finds
  // no P in FindRunnable and parks until one is handed to it.
  (void)m;
  g->status.store(GStatus::kRunnable, std::memory_order_relaxed);
  GlobRunqInject(g);
}

void Start() {
  g_sched = new Sched;  // leaked: goroutines may outlive static destructors
  Sched& s = *g_sched;
  const int n = DefaultProcs();
  for (int i = 0; i < n; i++) {
    s.allp[i] = new P;
    s.allp[i]->id = i;
    PidlePut(s.allp[i]);
  }
  s.gomaxprocs.store(n, std::memory_order_release);
  InstallSignalHandlers();
  SysmonStart();
  g_started.store(true, std::memory_order_release);
}

}  // namespace

// Every go::Go comes through here: a flag load, not call_once's
// pthread_once (which showed as 2% of skynet_1m at 16 Ps).
void EnsureStarted() {
  if (g_started.load(std::memory_order_acquire)) [[likely]] return;
  std::call_once(g_start_once, Start);
}

// ---------------------------------------------------------------------------
// Timers.

void InitTimer(Timer* t) { t->bubble = CurrentBubble(); }

void AddTimer(Timer* t) {
  san::Release(t);  // arming happens before the callback runs (timer_heap.cc)
  if (Bubble* b = t->bubble) {
    b->AddTimer(t);
    return;
  }
  EnsureStarted();
  Sched& s = sched();
  M* m = LoadM();
  P* p = (m && m->p) ? m->p : s.allp[RandN(static_cast<uint32_t>(s.gomaxprocs.load()))];
  p->timers.Add(t);
  EnsureTimerWatcherFor(t->when);
}

bool DelTimer(Timer* t) {
  for (;;) {
    auto* h = static_cast<TimerHeap*>(t->heap.load(std::memory_order_acquire));
    if (!h) return false;
    if (h->Remove(t)) return true;
    // Moved between heaps (P retired) or fired concurrently: look again.
  }
}

bool ResetTimer(Timer* t, int64_t when, int64_t period) {
  bool was = DelTimer(t);
  t->when = when;
  t->period = period;
  AddTimer(t);
  return was;
}

void RegisterPeriodic(std::function<void()> f, int64_t period_ns) {
  EnsureStarted();
  Sched& s = sched();
  {
    san::IgnoreAccesses no_tsan;
    LockGuard l(s.periodic_lock);
    s.periodic.push_back({std::move(f), period_ns, MonoNow() + period_ns});
  }
  san::Release(&s.periodic);  // registration happens before sysmon runs f
}

void ForEachG(const std::function<void(G*)>& f) {
  EnsureStarted();
  for (G* g = sched().allg.load(std::memory_order_acquire); g; g = g->all_next) {
    GStatus st = g->status.load(std::memory_order_relaxed);
    if (st == GStatus::kDead || st == GStatus::kIdle) continue;
    f(g);
  }
}

}  // namespace go::sched
