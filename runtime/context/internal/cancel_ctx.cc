// The cancellation tree (Go's cancelCtx, timerCtx, afterFuncCtx).
//
// Invariants:
//   [C1] err_/cause_ are written once under mu_, before canceled_ is set
//        (release); readers that load canceled_ == true (acquire) read them
//        without the lock.
//   [C2] A context's children_ list holds exactly the children linked under
//        it that have not been cancelled yet. The first Cancel detaches the
//        whole list under mu_ (setting canceled_ in the same critical
//        section); nothing is ever linked under a cancelled context.
//   [C3] A child's prev_/next_/keepalive_ are guarded by its parent node's
//        mu_ while the parent is not cancelled. Once the parent is cancelled
//        they belong to the goroutine that detached the list: the child's
//        own RemoveFromParent checks the parent's canceled_ under the
//        parent's lock and leaves them alone.
//   [C4] Every entry point that may run Cancel holds a reference to the
//        context for the whole call (CancelFunc closures, stop(), the
//        timer's reference, the canceller's keepalive_ copy), so dropping
//        keepalive_ or timer_ref_ inside Cancel never frees `this` under our
//        feet.
//   [C5] No channel operation and no goroutine start happens while holding
//        any mu_: channel operations are scheduling points inside synctest
//        bubbles, and a goroutine that switched out holding a sched::Lock
//        would block the bubble's only thread.
//   [C7] Timer callbacks only start a goroutine (TimerCtx::Fire): all
//        cancellation work runs on goroutines or the canceller's thread.
//   [C6] A deadline timer is armed at most once. While armed it owns a
//        reference (timer_ref_); exactly one of Fire and OnCanceled (when
//        DelTimer removed the timer before it fired) takes it back.
//
// Lock order: parent node before child (Propagate and RemoveFromParent take
// only the parent's lock; Cancel takes only its own, one node at a time), so
// there is no cycle.
//
// Why the cancellation walk is iterative: Go recurses while holding each
// parent's lock. We detach a node's children and push them on a work list
// threaded through the nodes themselves (work_next_), so a deep chain cannot
// overflow a goroutine's fixed-size stack, no lock is held while channels are
// closed [C5], and cancelling a subtree allocates nothing.
#include "runtime/context/internal/cancel_ctx.h"

#include <cstdint>
#include <limits>
#include <new>
#include <source_location>
#include <type_traits>
#include <utility>

#include "runtime/chan/select.h"
#include "runtime/goroutine.h"
#include "runtime/internal/striped_counter.h"
#include "runtime/sched/g.h"
#include "runtime/time/sleep.h"

namespace go::context::internal {
namespace {

// Leak-check counts. The first two change on every WithCancel/WithTimeout
// and its end, from every P: striped, so that they are not a shared cache
// line on every call.
::go::internal::StripedCounter g_armed_timers;
::go::internal::StripedCounter g_live_cancel_ctx;
std::atomic<int64_t> g_propagation_goroutines{0};

// Starts fn on a new goroutine that belongs to `bubble` (null: none),
// whoever the caller is: go::Go with the bubble chosen explicitly, for timer
// callbacks, which run on a scheduler stack (or a bubble's loop thread)
// where go::Go would not know the timer's bubble.
template <typename F>
void GoInBubble(sched::Bubble* bubble, F fn,
                std::source_location where = std::source_location::current()) {
  static_assert(sizeof(F) <= sched::G::kInlineFn && alignof(F) <= 16 &&
                std::is_nothrow_move_constructible_v<F>);
  sched::G* g = sched::NewG(where);
  g->bubble = bubble;
  ::new (static_cast<void*>(g->fn_inline)) F(std::move(fn));
  g->invoke = [](sched::G* x) { (*std::launder(reinterpret_cast<F*>(x->fn_inline)))(); };
  g->destroy = [](sched::G* x) { std::launder(reinterpret_cast<F*>(x->fn_inline))->~F(); };
  sched::StartG(g);
}

// A non-blocking receive: true if `done` is closed (nothing is ever sent on
// a Done channel, so "ready" means closed).
bool IsClosed(const RecvChan<std::monostate>& done) {
  return Select(OnRecv(done, [] {}), OnDefault()) == 0;
}

}  // namespace

const KeyBase& CancelCtxKey() {
  static const KeyBase* key = new KeyBase("context.cancelCtxKey");
  return *key;
}

const absl::Status& CanceledStatus() {
  static const absl::Status* s = new absl::Status(absl::CancelledError("context canceled"));
  return *s;
}

const absl::Status& DeadlineExceededStatus() {
  static const absl::Status* s =
      new absl::Status(absl::DeadlineExceededError("context deadline exceeded"));
  return *s;
}

// ---------------------------------------------------------------------------
// CancelCtx

CancelCtx::CancelCtx(Context parent) : Interface(Kind::kCancel), parent_(std::move(parent)) {
  g_live_cancel_ctx.Add(1);
}

CancelCtx::~CancelCtx() {
  g_live_cancel_ctx.Add(-1);
  ReleaseParent(parent_);
}

RecvChan<std::monostate> CancelCtx::Done() const {
  Chan<std::monostate> d;
  bool close = false;
  {
    sync::internal::LockGuard l(mu_);
    if (!done_) {
      // Lazily, like Go: most contexts are never waited on. MakeChan only
      // allocates, so calling it under mu_ does not break [C5].
      done_ = MakeChan<std::monostate>();
      // Cancelled before anyone asked: the winner found no channel to close.
      close = canceled_.load(std::memory_order_relaxed);
    }
    d = done_;
  }
  if (close) {
    // Several callers cannot all get here: only the one that created done_.
    d.Close();
  }
  return d;
}

absl::Status CancelCtx::Err() const {
  if (!canceled_.load(std::memory_order_acquire)) return absl::OkStatus();
  return err_;  // [C1]
}

absl::Status CancelCtx::CauseOrOk() const {
  if (!canceled_.load(std::memory_order_acquire)) return absl::OkStatus();
  return cause_;  // [C1]
}

size_t CancelCtx::NumChildren() const {
  sync::internal::LockGuard l(mu_);
  size_t n = 0;
  for (CancelCtx* c = children_; c != nullptr; c = c->next_) n++;
  return n;
}

void CancelCtx::Propagate(const std::shared_ptr<CancelCtx>& self) {
  // Fast path: walk our own context types up to the nearest cancelable one
  // without calling Done() (which would allocate the parent's channel).
  const Interface* p = ContextAccess::Get(parent_);
  for (;;) {
    if (p == nullptr) return;  // Background: never cancelled
    switch (p->kind_) {
      case Kind::kEmpty:
      case Kind::kWithoutCancel:
        return;  // never cancelled
      case Kind::kValue:
        p = ContextAccess::Get(static_cast<const ValueCtxBase*>(p)->parent_);
        continue;
      case Kind::kCancel:
        LinkUnder(const_cast<CancelCtx*>(static_cast<const CancelCtx*>(p)), self);
        return;
      case Kind::kForeign:
        break;
    }
    break;
  }

  // A user-written parent: Go's propagateCancel, step by step.
  RecvChan<std::monostate> done = parent_.Done();
  if (!done) return;  // never cancelled
  if (IsClosed(done)) {
    Cancel(false, parent_.Err(), Cause(parent_));
    return;
  }
  // Does it wrap one of ours, with the same Done channel (Go's
  // parentCancelCtx)? Then link there as if it were ours.
  if (const void* v = ContextAccess::Get(parent_)->Value(CancelCtxKey())) {
    auto* node = const_cast<CancelCtx*>(static_cast<const CancelCtx*>(v));
    bool same;
    {
      sync::internal::LockGuard l(node->mu_);
      same = node->done_ && RecvChan<std::monostate>(node->done_) == done;
    }
    if (same) {
      LinkUnder(node, self);
      return;
    }
  }
  WatchForeignParent(self, std::move(done));
}

void CancelCtx::LinkUnder(CancelCtx* node, const std::shared_ptr<CancelCtx>& self) {
  absl::Status err, cause;
  {
    sync::internal::LockGuard l(node->mu_);
    if (!node->canceled_.load(std::memory_order_relaxed)) {
      // [C2] [C3]: push front.
      parent_node_ = node;
      keepalive_ = self;
      next_ = node->children_;
      if (next_ != nullptr) next_->prev_ = this;
      node->children_ = this;
      return;
    }
    err = node->err_;
    cause = node->cause_;
  }
  Cancel(false, err, cause);  // the parent is already cancelled
}

void CancelCtx::WatchForeignParent(const std::shared_ptr<CancelCtx>& self,
                                   RecvChan<std::monostate> done) {
  // Go's afterFuncer branch: let the parent call us back.
  std::function<bool()> stop = ContextAccess::Get(parent_)->AfterFunc([self] {
    self->Cancel(false, self->parent_.Err(), Cause(self->parent_));
  });
  if (stop) {
    sync::internal::LockGuard l(mu_);
    if (!canceled_.load(std::memory_order_relaxed)) {
      foreign_stop_ = std::make_unique<std::function<bool()>>(std::move(stop));
      return;
    }
    // Already cancelled through the callback: nothing to unregister.
    return;
  }
  // Last resort: a goroutine that waits for whichever side ends first.
  g_propagation_goroutines.fetch_add(1, std::memory_order_relaxed);
  RecvChan<std::monostate> mine = Done();
  go::Go([self, done = std::move(done), mine = std::move(mine)] {
    Select(OnRecv(done, [&] { self->Cancel(false, self->parent_.Err(), Cause(self->parent_)); }),
           OnRecv(mine, [] {}));
  });
}

bool CancelCtx::MarkCanceled(const absl::Status& err, const absl::Status& cause,
                             CancelCtx** work, std::function<bool()>* foreign_stop) {
  Chan<std::monostate> to_close;
  {
    sync::internal::LockGuard l(mu_);
    if (canceled_.load(std::memory_order_relaxed)) return false;
    err_ = err;  // [C1]
    cause_ = cause.ok() ? err : cause;
    canceled_.store(true, std::memory_order_release);
    to_close = done_;  // if null, Done() creates it closed
    // [C2] Take the whole child list over; [C3] from now on its links are ours.
    for (CancelCtx* c = children_; c != nullptr; c = c->next_) {
      c->work_next_ = *work;
      *work = c;
    }
    children_ = nullptr;
    if (foreign_stop_) {
      *foreign_stop = std::move(*foreign_stop_);
      foreign_stop_.reset();
    }
  }
  if (to_close) to_close.Close();  // [C5] outside the lock
  return true;
}

void CancelCtx::Cancel(bool remove_from_parent, const absl::Status& err_in,
                       const absl::Status& cause) {
  // A foreign parent whose Done closed but whose Err() is OK is broken (Go
  // panics with "missing cancel error"); call it Canceled rather than record
  // a cancelled context whose Err() says OK.
  const absl::Status& err = err_in.ok() ? CanceledStatus() : err_in;
  CancelCtx* work = nullptr;
  std::function<bool()> foreign_stop;
  if (!MarkCanceled(err, cause, &work, &foreign_stop)) return;
  OnCanceled();
  // Children get this context's err and cause, as in Go.
  const absl::Status& c = cause.ok() ? err : cause;
  CancelDescendants(work, err, c);
  if (remove_from_parent) {
    RemoveFromParent(std::move(foreign_stop));
  }
  // Otherwise a foreign parent has already fired (or never will call us):
  // dropping foreign_stop here breaks the reference cycle through its
  // registration.
}

void CancelCtx::CancelDescendants(CancelCtx* work, const absl::Status& err,
                                  const absl::Status& cause) {
  while (work != nullptr) {
    CancelCtx* c = work;
    work = c->work_next_;
    c->work_next_ = nullptr;
    // [C3] The parent's reference is ours now; it keeps c alive for this
    // iteration [C4] and is dropped at its end (possibly freeing c).
    std::shared_ptr<CancelCtx> ref = std::move(c->keepalive_);
    c->prev_ = c->next_ = nullptr;
    std::function<bool()> unused;
    if (c->MarkCanceled(err, cause, &work, &unused)) c->OnCanceled();
  }
}

void CancelCtx::RemoveFromParent(std::function<bool()> foreign_stop) {
  if (CancelCtx* p = parent_node_) {
    std::shared_ptr<CancelCtx> ref;  // dropped after the lock is released
    sync::internal::LockGuard l(p->mu_);
    if (p->canceled_.load(std::memory_order_relaxed)) return;  // [C3] not ours to touch
    if (prev_ != nullptr) {
      prev_->next_ = next_;
    } else {
      p->children_ = next_;
    }
    if (next_ != nullptr) next_->prev_ = prev_;
    prev_ = next_ = nullptr;
    ref = std::move(keepalive_);
    return;  // the guard unlocks before ref (declared first) is destroyed
  }
  if (foreign_stop) foreign_stop();  // Go's removeChild on a stopCtx
}

// ---------------------------------------------------------------------------
// TimerCtx

TimerCtx::TimerCtx(Context parent, absl::Time deadline)
    : CancelCtx(std::move(parent)), deadline_(deadline) {}

TimerCtx::~TimerCtx() = default;

void TimerCtx::Arm(const std::shared_ptr<TimerCtx>& self, absl::Duration in, absl::Status cause) {
  // Far deadlines are clamped (as Sleep does) so that now + in cannot overflow.
  constexpr int64_t kMaxNs = int64_t{1} << 62;
  const int64_t ns = in >= absl::Nanoseconds(kMaxNs) ? kMaxNs : absl::ToInt64Nanoseconds(in);
  sync::internal::LockGuard l(mu_);
  if (IsCanceled()) return;
  deadline_cause_ = std::move(cause);
  sched::InitTimer(&timer_);  // the caller's clock: virtual inside a bubble
  bubble_ = timer_.bubble;
  timer_.when = sched::Nanotime() + ns;
  timer_.f = &TimerCtx::Fire;
  timer_.arg = this;
  timer_ref_ = self;  // [C6]
  armed_ = true;
  g_armed_timers.Add(1);
  sched::AddTimer(&timer_);  // does not block or park
}

void TimerCtx::Fire(void* arg, uint64_t, int64_t) {
  // This runs on a scheduler stack: hand the cancellation over to a
  // goroutine at once (Go's time.AfterFunc does the same) [C7]. Cancelling
  // may close many channels, start AfterFunc goroutines and free contexts
  // whose values' destructors are user code; none of that belongs on a
  // scheduler stack. The goroutine joins the timer's bubble, so the
  // AfterFunc goroutines it starts do too, as in Go.
  auto* c = static_cast<TimerCtx*>(arg);
  GoInBubble(c->bubble_, [c] { c->Expire(); });  // timer_ref_ keeps c alive [C6]
}

void TimerCtx::Expire() {
  std::shared_ptr<TimerCtx> ref;  // [C4] for the whole call
  {
    sync::internal::LockGuard l(mu_);
    ref = std::move(timer_ref_);  // [C6]: OnCanceled's DelTimer failed or never ran
    armed_ = false;
  }
  g_armed_timers.Add(-1);
  Cancel(true, DeadlineExceededStatus(), deadline_cause_);
}

void TimerCtx::OnCanceled() {
  std::shared_ptr<TimerCtx> ref;  // dropped after the lock is released [C4]
  sync::internal::LockGuard l(mu_);
  if (armed_ && sched::DelTimer(&timer_)) {
    // Stopped before it fired: Fire will not run, its reference is ours.
    armed_ = false;
    ref = std::move(timer_ref_);
    g_armed_timers.Add(-1);
  }
}

// ---------------------------------------------------------------------------
// AfterFuncCtx

AfterFuncCtx::AfterFuncCtx(Context parent, std::function<void()> f)
    : CancelCtx(std::move(parent)), f_(std::move(f)) {}

bool AfterFuncCtx::Stop() {
  if (once_.exchange(true, std::memory_order_acq_rel)) return false;
  // We own f_ now; it will never run. Unlink from the parent.
  f_ = nullptr;
  Cancel(true, CanceledStatus(), absl::OkStatus());
  return true;
}

void AfterFuncCtx::OnCanceled() {
  if (once_.exchange(true, std::memory_order_acq_rel)) return;  // stopped
  go::Go(std::move(f_));
}

// ---------------------------------------------------------------------------
// Test hooks

int64_t ArmedTimersForTest() { return g_armed_timers.Sum(); }
int64_t LiveCancelCtxForTest() { return g_live_cancel_ctx.Sum(); }
int64_t PropagationGoroutinesForTest() {
  return g_propagation_goroutines.load(std::memory_order_relaxed);
}

}  // namespace go::context::internal
