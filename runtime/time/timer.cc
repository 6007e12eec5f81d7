// Time channels: a channel (capacity 1) that owns a runtime timer.
//
// Design. The channel core and the timer are one object, TimeChan, a
// ChanCore subclass: every handle (Timer, Ticker, each RecvChan copy of C())
// is a reference to it. The runtime timer's callback (Fire) does a
// non-blocking send under the channel lock. Everything that changes the timer
// (arm, Stop, Reset, the callback, the last handle going away) also runs under
// the channel lock, so one lock orders the timer's state and the channel's
// buffer. Lock order: channel lock -> timer heap lock (AddTimer/DelTimer);
// the heap never calls back into us with its lock held (timer_heap.cc).
//
// Go 1.23's stale-value guarantee comes from a sequence number: each arming
// gets a new seq_, and Fire delivers only if the seq it was armed with (the
// runtime hands it back) still equals seq_. Stop and Reset bump seq_ (so a
// callback already on its way is ignored) and drain the buffer (so a value
// that fired before the call is not received after it).
//
// Lifetime. A Ticker re-arms itself from Fire (one-shot runtime timers only:
// a periodic runtime timer could run its callback after a successful
// DelTimer, with nobody left to keep the object alive). Every AddTimer is
// resolved exactly once: by a DelTimer that returns true, or by its Fire
// finishing. pending_ counts the unresolved ones; each keeps the object
// alive. When the last handle goes away, LastHandleGone removes the timer; the
// object is freed by whoever brings pending_ to zero with no handles left.
//
// Invariants (under lock_):
//   [T1] current_ == the latest arming is unresolved (in a heap or firing);
//        only that arming's seq equals seq_.
//   [T2] pending_ >= current_; pending_ - current_ callbacks are stale.
//   [T3] dead_ (no handles) implies !current_; the object is freed exactly
//        when dead_ && pending_ == 0.
//   [T4] The buffer holds at most one value, delivered by the arming with
//        the current seq_ (Stop/Reset drain it when they bump seq_).
#include "runtime/time/timer.h"

#include <atomic>
#include <cstdint>

#include "runtime/chan/chan_core.h"
#include "runtime/internal/striped_counter.h"
#include "runtime/panic.h"
#include "runtime/sched/sched.h"

namespace go {
namespace {

using chan_internal::ChanCore;
using chan_internal::ChanRef;

// Armed-or-undelivered timer channels (PendingTimers, for leak checks).
// Every Timer arms and disarms it, so it is striped by CPU.
internal::StripedCounter g_pending;

int64_t ToNanos(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return 0;
  if (d >= absl::Hours(24 * 365 * 100)) return int64_t{1} << 62;  // "never", without overflow
  return absl::ToInt64Nanoseconds(d);
}

class TimeChan final : public ChanCore {
 public:
  TimeChan(const chan_internal::ElemOps* ops, size_t cap, unsigned char* buf) noexcept
      : ChanCore(ops, cap, buf, /*timer_chan=*/true) {
    sched::InitTimer(&t_);  // binds to the creator's clock (synctest bubble)
    t_.f = &Fire;
    t_.arg = this;
  }

  // A new time channel with one handle, armed to fire after delay_ns and
  // then every period_ns (0: once).
  static ChanRef Start(int64_t delay_ns, int64_t period_ns) {
    TimeChan* tc = Create<TimeChan>(&chan_internal::kOpsFor<absl::Time>, 1);
    {
      chan_internal::ChanLockGuard l(tc->lock_);
      tc->period_ = period_ns;
      tc->ArmLocked(tc->NowLocked() + delay_ns);
    }
    return ChanRef(tc);
  }

  // Stops the timer; true if that prevented a delivery (see timer.h).
  bool Stop() {
    chan_internal::ChanLockGuard l(lock_);
    return DisarmLocked();
  }

  // Stops, then re-arms after delay_ns (period_ns > 0 for tickers).
  bool Reset(int64_t delay_ns, int64_t period_ns) {
    chan_internal::ChanLockGuard l(lock_);
    const bool active = DisarmLocked();
    period_ = period_ns;
    ArmLocked(NowLocked() + delay_ns);
    return active;
  }

 private:
  // Reads the caller's clock (a goroutine's: its bubble's, if any) and
  // remembers how it maps to wall time, for the values Fire sends.
  int64_t NowLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    const int64_t now = sched::Nanotime();
    wall_offset_ = sched::Walltime() - now;
    return now;
  }

  // Arms a new one-shot runtime timer for `when` with a fresh seq [T1].
  void ArmLocked(int64_t when) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    when_ = when;
    seq_++;
    t_.when = when_;
    t_.period = 0;
    t_.seq = seq_;
    current_ = true;
    pending_++;
    g_pending.Add(1);
    sched::AddTimer(&t_);
  }

  // Makes the current arming (if any) deliver nothing, now or later.
  bool DisarmLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    bool active = current_;
    if (current_) {
      // Not in a heap any more means its Fire is on the way; the seq bump
      // below makes that Fire a no-op, so either way nothing is delivered.
      if (sched::DelTimer(&t_)) ResolveLocked();
      current_ = false;
    }
    seq_++;
    if (DrainLocked()) active = true;  // fired, not yet received: Go 1.23 discards it
    return active;
  }

  void ResolveLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    pending_--;
    g_pending.Add(-1);
  }

  void LastHandleGone() noexcept override {
    bool free;
    {
      chan_internal::ChanLockGuard l(lock_);
      dead_ = true;
      if (current_ && sched::DelTimer(&t_)) ResolveLocked();
      current_ = false;  // [T3]
      seq_++;
      free = pending_ == 0;
    }
    if (free) Free(this);
  }

  // The runtime timer's callback, on a scheduler stack: must not block.
  //
  // It keeps no addressable locals (the value to send lives in fire_value_,
  // the G to wake comes back by value): under ThreadSanitizer every callback
  // runs in a fresh TSan fiber on the same scheduler stack, with no
  // happens-before between successive callbacks, so two callbacks touching
  // the same stack slot would be reported as a race.
  static void Fire(void* arg, uint64_t seq, int64_t now) {
    auto* tc = static_cast<TimeChan*>(arg);
    sched::G* wake = nullptr;
    bool free = false;
    tc->lock_.lock();
    tc->ResolveLocked();
    if (tc->dead_) {
      free = tc->pending_ == 0;  // [T3]
    } else if (seq == tc->seq_) {
      // Go sends the time the timer was due (Now minus the lateness).
      tc->fire_value_ = absl::FromUnixNanos(tc->when_ + tc->wall_offset_);
      wake = tc->TrySendLocked(&tc->fire_value_);  // full: a Ticker drops the tick
      tc->current_ = false;
      if (tc->period_ > 0) {
        // Next tick on the period grid, skipping the ones already missed.
        // (`now` is the timer's own clock: this stack has no goroutine.)
        const int64_t late = now - tc->when_;
        tc->ArmLocked(tc->when_ + tc->period_ * (1 + (late > 0 ? late / tc->period_ : 0)));
      }
    }
    tc->lock_.unlock();
    if (wake != nullptr) sched::Ready(wake);
    if (free) Free(tc);
  }

  sched::Timer t_;
  uint64_t seq_ ABSL_GUARDED_BY(lock_) = 0;
  int pending_ ABSL_GUARDED_BY(lock_) = 0;
  bool current_ ABSL_GUARDED_BY(lock_) = false;
  bool dead_ ABSL_GUARDED_BY(lock_) = false;
  int64_t when_ ABSL_GUARDED_BY(lock_) = 0;
  int64_t period_ ABSL_GUARDED_BY(lock_) = 0;
  int64_t wall_offset_ ABSL_GUARDED_BY(lock_) = 0;  // Walltime - Nanotime at arming
  absl::Time fire_value_ ABSL_GUARDED_BY(lock_);     // Fire's value, moved out by the send
};

TimeChan* Core(const ChanRef& r) { return static_cast<TimeChan*>(r.get()); }

}  // namespace

RecvChan<absl::Time> After(absl::Duration d) {
  return chan_internal::Access::Make<RecvChan<absl::Time>>(TimeChan::Start(ToNanos(d), 0));
}

RecvChan<absl::Time> Tick(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return RecvChan<absl::Time>();
  return Ticker(d).C();
}

Timer::Timer(absl::Duration d) : ref_(TimeChan::Start(ToNanos(d), 0)) {}

RecvChan<absl::Time> Timer::C() const { return chan_internal::Access::Make<RecvChan<absl::Time>>(ref_); }

bool Timer::Stop() {
  if (!ref_.get()) throw Panic("time: Stop called on uninitialized Timer");
  return Core(ref_)->Stop();
}

bool Timer::Reset(absl::Duration d) {
  if (!ref_.get()) throw Panic("time: Reset called on uninitialized Timer");
  return Core(ref_)->Reset(ToNanos(d), 0);
}

Ticker::Ticker(absl::Duration d) {
  if (d <= absl::ZeroDuration()) throw Panic("non-positive interval for NewTicker");
  const int64_t ns = ToNanos(d);
  ref_ = TimeChan::Start(ns, ns);
}

RecvChan<absl::Time> Ticker::C() const { return chan_internal::Access::Make<RecvChan<absl::Time>>(ref_); }

void Ticker::Stop() {
  if (!ref_.get()) return;  // Go tolerates this misuse for Tickers
  Core(ref_)->Stop();
}

void Ticker::Reset(absl::Duration d) {
  if (d <= absl::ZeroDuration()) throw Panic("non-positive interval for Ticker.Reset");
  if (!ref_.get()) throw Panic("time: Reset called on uninitialized Ticker");
  const int64_t ns = ToNanos(d);
  Core(ref_)->Reset(ns, ns);
}

namespace time_internal {
int64_t PendingTimers() { return g_pending.Sum(); }
}  // namespace time_internal

}  // namespace go
