// The synctest bubble: a deterministic scheduler for one group of goroutines.
//
// Invariants:
//  [B1] Every goroutine of a bubble runs on the thread that called Test, one
//       at a time, switched to and from the bubble loop (Bubble::Run) with
//       sched::RunFiber. So "nothing is runnable" means "every bubble
//       goroutine is blocked".
//  [B2] All scheduling choices (which runnable goroutine runs, select's
//       random pick, whether a runtime call is a preemption point) draw from
//       rng_, which only the loop thread touches, in an order fixed by the
//       previous choices: the interleaving is a function of the seed.
//  [B3] Virtual time (now_) only moves in Run, when nothing is runnable and
//       no synctest::Wait is pending, and only to the next timer's deadline.
//  [B4] A bubble is deleted only after all its goroutines exited. A
//       deadlocked bubble is leaked (its parked goroutines point at it) and
//       marked dead, so that a late Ready from outside is ignored.
#include "runtime/synctest/synctest.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_format.h"
#include "runtime/panic.h"
#include "runtime/sched/sanitizers.h"
#include "runtime/sched/sched_internal.h"

namespace go::synctest {
namespace {

using sched::G;
using sched::LockGuard;
namespace san = sched::san;

thread_local uint64_t tls_last_seed = 0;
thread_local uint64_t tls_bubbles = 0;

uint64_t SplitMix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string CommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out;
  for (char c : raw) out += c == '\0' ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

const char* PolicyName(Policy p) { return p == Policy::kPCT ? "pct" : "random"; }

class BubbleImpl final : public sched::Bubble {
 public:
  BubbleImpl(uint64_t seed, Policy policy) : seed_(seed), rng_(seed), policy_(policy) {
    // PCT: d - 1 = 2 priority change points spread over the first k steps.
    for (int i = 0; i < 2; i++) change_points_[i] = 1 + SplitMix(rng_) % 200;
  }

  // --- sched::Bubble -----------------------------------------------------
  void Ready(G* g) override {
    {
      LockGuard l(lock_);
      if (dead_) return;
      san::IgnoreAccesses no_tsan;
      runnable_.push_back(g);
    }
    if (tls_loop != this) wake_.Wakeup();  // an outside thread woke one of ours
  }
  void Spawned(G* g) override {
    LockGuard l(lock_);
    san::IgnoreAccesses no_tsan;
    g->bubble_seq = next_seq_++;
    // PCT: distinct random priorities above the change-point levels.
    g->bubble_prio = 16 + (SplitMix(rng_) >> 8);
    live_++;
    runnable_.push_back(g);
  }
  // Every bubble goroutine's end happens before Test returns.
  void Exited(G*) override { san::Release(this); }
  void Parked(G*) override {}
  int64_t Nanotime() override { return now_.load(std::memory_order_relaxed); }
  void AddTimer(sched::Timer* t) override {
    timers_.Add(t);
    if (tls_loop != this) wake_.Wakeup();
  }
  bool DelTimer(sched::Timer*) override { return false; }  // sched::DelTimer handles it
  uint32_t Rand() override { return static_cast<uint32_t>(SplitMix(rng_) >> 32); }
  void MaybePreempt(G*) override {
    // PCT decides by priority at every scheduling point; the random walk
    // preempts a quarter of the time.
    if (policy_ == Policy::kPCT || SplitMix(rng_) % 4 == 0) sched::Yield();
  }

  // --- the loop ---------------------------------------------------------------
  void Run() {
    tls_loop = this;
    for (;;) {
      G* g = nullptr;
      {
        LockGuard l(lock_);
        if (live_ == 0) break;
        if (!runnable_.empty()) g = PickLocked();
      }
      if (g) {
        RunOne(g);
        continue;
      }
      // [B1] Everyone is blocked. synctest::Wait returns first...
      if (waiter_) {
        G* w = waiter_;
        waiter_ = nullptr;
        Ready(w);
        continue;
      }
      // ...then time jumps to the next timer [B3].
      const int64_t next = timers_.NextWhen();
      if (next != sched::TimerHeap::kNever) {
        if (next > now_.load(std::memory_order_relaxed)) now_.store(next, std::memory_order_relaxed);
        timers_.Run(now_.load(std::memory_order_relaxed));
        continue;
      }
      // Nothing can ever run again, unless an outside thread wakes us.
      if (wake_.Sleep(100 * 1000 * 1000)) continue;
      {
        LockGuard l(lock_);
        if (!runnable_.empty()) continue;
      }
      tls_loop = nullptr;
      Deadlock();
    }
    tls_loop = nullptr;
  }

  sched::SchedContext ctx;
  G* waiter_ = nullptr;  // goroutine blocked in synctest::Wait (loop thread only)

 private:
  G* PickLocked() {
    size_t i = 0;
    if (policy_ == Policy::kPCT) {
      for (size_t j = 1; j < runnable_.size(); j++) {
        if (runnable_[j]->bubble_prio > runnable_[i]->bubble_prio) i = j;
      }
      ++steps_;
      for (int c = 0; c < 2; c++) {
        if (steps_ == change_points_[c]) runnable_[i]->bubble_prio = static_cast<uint64_t>(c + 1);
      }
    } else {
      i = static_cast<size_t>(SplitMix(rng_) % runnable_.size());
    }
    G* g = runnable_[i];
    san::IgnoreAccesses no_tsan;
    runnable_.erase(runnable_.begin() + static_cast<ptrdiff_t>(i));
    return g;
  }

  void RunOne(G* g) {
    switch (sched::RunFiber(&ctx, g)) {
      case sched::SwitchReason::kPark:
        break;
      case sched::SwitchReason::kYield:
      case sched::SwitchReason::kPreempt: {  // (PreemptPoint skips bubbles)
        LockGuard l(lock_);
        san::IgnoreAccesses no_tsan;
        runnable_.push_back(g);
        break;
      }
      case sched::SwitchReason::kExit: {
        if (g->bubble_seq == 0) root_exited_ = true;
        sched::FreeDeadG(g);
        LockGuard l(lock_);
        live_--;
        break;
      }
      case sched::SwitchReason::kSyscallBlocked:
        sched::Fatal("synctest: system call handoff inside a bubble", true);
    }
  }

  [[noreturn]] void Deadlock() {
    std::string msg = root_exited_
                          ? "deadlock: main bubble goroutine has exited but blocked goroutines remain"
                          : "deadlock: all goroutines in bubble are blocked";
    absl::StrAppendFormat(&msg, "\nsynctest: seed=%d policy=%s; replay with: GO_SYNCTEST_SEED=%d %s\n\n",
                          seed_, PolicyName(policy_), seed_, CommandLine());
    sched::ForEachG([&](G* x) {
      if (x->bubble != this) return;
      std::string one = sched::DumpGoroutines(x);
      // DumpGoroutines(x) lists x first, then everyone: keep x's entry only.
      msg += one.substr(0, one.find("\n\n") + 2);
    });
    {
      LockGuard l(lock_);
      dead_ = true;  // [B4]
    }
    throw go::Panic(msg);
  }

  static thread_local BubbleImpl* tls_loop;

  const uint64_t seed_;
  uint64_t rng_;  // [B2] loop thread only
  const Policy policy_;
  uint64_t steps_ = 0;
  uint64_t change_points_[2] = {0, 0};
  std::atomic<int64_t> now_{0};
  sched::TimerHeap timers_;
  sched::Note wake_;
  bool root_exited_ = false;

  sched::Lock lock_;
  sched::RawVector<G*> runnable_;
  int live_ = 0;
  uint64_t next_seq_ = 0;
  bool dead_ = false;
};

thread_local BubbleImpl* BubbleImpl::tls_loop = nullptr;

uint64_t SeedFromEnv(bool* found) {
  const char* e = getenv("GO_SYNCTEST_SEED");
  *found = e && *e;
  return *found ? strtoull(e, nullptr, 10) : 0;
}

Policy PolicyFromEnv() {
  const char* e = getenv("GO_SYNCTEST_POLICY");
  return (e && std::string(e) == "pct") ? Policy::kPCT : Policy::kRandom;
}

}  // namespace

void Test(absl::FunctionRef<void()> f, std::source_location where) { Test(Options{}, f, where); }

void Test(const Options& options, absl::FunctionRef<void()> f, std::source_location where) {
  sched::EnsureStarted();
  if (sched::CurrentBubble()) throw go::Panic("synctest.Run called from within a synctest bubble");
  uint64_t seed;
  bool from_env = false;
  if (options.seed) {
    seed = *options.seed;
  } else {
    seed = SeedFromEnv(&from_env);
    if (!from_env) {
      uint64_t s = static_cast<uint64_t>(sched::MonoNow()) ^ reinterpret_cast<uintptr_t>(&seed);
      seed = SplitMix(s) % 1000000000ull;  // short enough to type
    }
  }
  tls_last_seed = seed;
  tls_bubbles++;
  // While a bubble runs, scheduling points take their slow path (sched.h).
  struct LiveBubble {
    LiveBubble() { sched::g_preempt.live_bubbles.fetch_add(1, std::memory_order_relaxed); }
    ~LiveBubble() { sched::g_preempt.live_bubbles.fetch_sub(1, std::memory_order_relaxed); }
  } live;
  auto* b = new BubbleImpl(seed, options.policy ? *options.policy : PolicyFromEnv());
  sched::InitSchedContextHere(&b->ctx);
  sched::InitSignalStackForThread();

  G* g = sched::NewG(where);
  g->bubble = b;
  static_assert(sizeof(absl::FunctionRef<void()>) <= G::kInlineFn);
  new (g->fn_inline) absl::FunctionRef<void()>(f);
  g->invoke = [](G* x) { (*reinterpret_cast<absl::FunctionRef<void()>*>(x->fn_inline))(); };
  g->destroy = [](G*) {};
  sched::StartG(g);  // -> Spawned: the root is the bubble's goroutine 0
  b->Run();          // throws go::Panic on deadlock (the bubble is leaked [B4])
  san::Acquire(b);
  delete b;
}

void Wait() {
  G* g = sched::CurrentGoroutine();
  if (!g || !g->bubble) throw go::Panic("synctest.Wait not called from within a synctest bubble");
  auto* b = static_cast<BubbleImpl*>(g->bubble);
  if (b->waiter_) throw go::Panic("synctest.Wait called while another Wait is in progress");
  sched::Park(
      [](G* self, void* arg) {
        static_cast<BubbleImpl*>(arg)->waiter_ = self;
        return true;
      },
      b, sched::WaitReason::kSynctestWait);
}

uint64_t LastSeed() { return tls_last_seed; }
uint64_t BubblesStarted() { return tls_bubbles; }

std::optional<uint64_t> FindFailingSeed(absl::FunctionRef<bool()> body, int runs,
                                        uint64_t first_seed, Policy policy) {
  for (int i = 0; i < runs; i++) {
    const uint64_t seed = first_seed + static_cast<uint64_t>(i);
    bool ok = true;
    try {
      Test(Options{seed, policy}, [&] { ok = body(); });
    } catch (const std::exception&) {
      ok = false;
    }
    if (!ok) return seed;
  }
  return std::nullopt;
}

}  // namespace go::synctest
