// The cancelable contexts behind WithCancel, WithDeadline and AfterFunc
// (Go's cancelCtx, timerCtx and afterFuncCtx). Private to //runtime/context.
//
//   CancelCtx     a node of the cancellation tree: its Done channel, its
//                 error and cause, and an intrusive list of the children
//                 linked under it.
//   TimerCtx      a CancelCtx with a deadline and a runtime timer.
//   AfterFuncCtx  a CancelCtx whose cancellation starts a goroutine.
//
// Memory ordering: Cancel() writes err_/cause_ under mu_ and then publishes
// them with a release store to canceled_, before it closes the Done channel
// and before it cancels any descendant. Err()/Cause() load canceled_ with
// acquire, and a receiver that sees Done closed synchronizes with Close()
// through the channel. So whatever preceded cancel() is visible to anyone who
// observes the cancellation, in this context and every descendant.
#ifndef GO_RUNTIME_CONTEXT_INTERNAL_CANCEL_CTX_H_
#define GO_RUNTIME_CONTEXT_INTERNAL_CANCEL_CTX_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <variant>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "runtime/chan/chan.h"
#include "runtime/context/context.h"
#include "runtime/sync/internal/lock.h"
#include "runtime/sched/sched.h"

namespace go::context::internal {

// The key whose Value is the nearest enclosing CancelCtx (Go's cancelCtxKey).
const KeyBase& CancelCtxKey();
// Cached copies of Canceled() and DeadlineExceeded() (no allocation).
const absl::Status& CanceledStatus();
const absl::Status& DeadlineExceededStatus();

class CancelCtx : public Interface {
 public:
  explicit CancelCtx(Context parent);
  ~CancelCtx() override;

  std::optional<absl::Time> Deadline() const override { return parent_.Deadline(); }
  RecvChan<std::monostate> Done() const override;
  absl::Status Err() const override;
  const void* Value(const KeyBase& key) const override { return LookupValue(this, key); }

  // Go's propagateCancel: arranges for this context to be cancelled when its
  // parent is. `self` owns this object; the parent (or the watcher) keeps a
  // reference to it until either side is cancelled. Call once, right after
  // construction, before the context is shared.
  void Propagate(const std::shared_ptr<CancelCtx>& self);

  // Go's cancelCtx.cancel: closes Done, sets err (and cause, or err when cause
  // is OK), cancels every descendant and, if remove_from_parent, unlinks this
  // context from its parent. Only the first call has any effect. The caller
  // must hold a reference to this context for the duration of the call.
  void Cancel(bool remove_from_parent, const absl::Status& err, const absl::Status& cause);

  // The cause, or OK while not cancelled.
  absl::Status CauseOrOk() const;
  bool IsCanceled() const { return canceled_.load(std::memory_order_acquire); }
  size_t NumChildren() const;
  const Context& parent() const { return parent_; }

 protected:
  // Runs exactly once, in the goroutine (or timer callback) that cancelled
  // this context, after Done has been closed and with no lock held.
  virtual void OnCanceled() {}

  // sync::internal::Lock is sched::Lock plus a happens-before edge that
  // ThreadSanitizer sees also when the lock was contended.
  mutable sync::internal::Lock mu_;

 private:
  friend const void* LookupValue(const Interface*, const KeyBase&);
  friend void ReleaseParent(Context&);

  bool MarkCanceled(const absl::Status& err, const absl::Status& cause, CancelCtx** work,
                    std::function<bool()>* foreign_stop);
  static void CancelDescendants(CancelCtx* work, const absl::Status& err,
                                const absl::Status& cause);
  void RemoveFromParent(std::function<bool()> foreign_stop);
  void LinkUnder(CancelCtx* node, const std::shared_ptr<CancelCtx>& self);
  void WatchForeignParent(const std::shared_ptr<CancelCtx>& self, RecvChan<std::monostate> done);

  Context parent_;  // immutable until the destructor

  // [C1] err_ and cause_ are written once, under mu_, before the release
  // store of canceled_ = true; after that they are immutable and read
  // without the lock.
  std::atomic<bool> canceled_{false};
  absl::Status err_;
  absl::Status cause_;

  // Created on the first Done() call (or at cancellation if Done was called
  // before); closed by the first Cancel. Never replaced once set.
  mutable Chan<std::monostate> done_ ABSL_GUARDED_BY(mu_);

  // [C2] The children linked under this context: an intrusive doubly-linked
  // list through the children's prev_/next_, so that unlinking one is O(1)
  // and costs no allocation. Set to empty by the first Cancel, which takes
  // the whole list over.
  CancelCtx* children_ ABSL_GUARDED_BY(mu_) = nullptr;

  // The ancestor this context is linked under (null: none, or a foreign
  // parent). Written by Propagate before the context is shared.
  CancelCtx* parent_node_ = nullptr;
  // [C3] While linked: guarded by parent_node_->mu_. Once the parent's
  // Cancel has detached its list, owned by that canceller alone.
  CancelCtx* prev_ = nullptr;
  CancelCtx* next_ = nullptr;
  // The parent's reference to this child (Go's children map entry).
  std::shared_ptr<CancelCtx> keepalive_;
  // The canceller's work list (only the canceller that detached us uses it).
  CancelCtx* work_next_ = nullptr;

  // Unregisters from a foreign parent's AfterFunc (Go's stopCtx). Boxed:
  // only contexts under a user-written parent have one, and a std::function
  // inline would add 24 bytes to every context.
  std::unique_ptr<std::function<bool()>> foreign_stop_ ABSL_GUARDED_BY(mu_);
};

class TimerCtx final : public CancelCtx {
 public:
  TimerCtx(Context parent, absl::Time deadline);
  ~TimerCtx() override;

  std::optional<absl::Time> Deadline() const override { return deadline_; }

  // Starts the deadline timer, due in `in`; when it fires the context is
  // cancelled with DeadlineExceeded and `cause`. The timer holds a reference
  // (`self`) while armed. Does nothing if the context is already cancelled.
  void Arm(const std::shared_ptr<TimerCtx>& self, absl::Duration in, absl::Status cause);

 protected:
  void OnCanceled() override;  // stops the timer

 private:
  static void Fire(void* arg, uint64_t seq, int64_t now);  // the timer callback
  void Expire();  // the deadline passed: runs on the goroutine Fire starts

  const absl::Time deadline_;
  absl::Status deadline_cause_;  // written before the timer is armed
  sched::Bubble* bubble_ = nullptr;  // the clock the timer runs on
  sched::Timer timer_ ABSL_GUARDED_BY(mu_);
  bool armed_ ABSL_GUARDED_BY(mu_) = false;
  // The armed timer's reference: taken by Expire, or by OnCanceled when it
  // stops the timer before it fires. Exactly one of them gets it.
  std::shared_ptr<TimerCtx> timer_ref_ ABSL_GUARDED_BY(mu_);
};

class AfterFuncCtx final : public CancelCtx {
 public:
  AfterFuncCtx(Context parent, std::function<void()> f);

  // stop(): true if it prevented f from running.
  bool Stop();

 protected:
  void OnCanceled() override;  // starts f's goroutine, unless stopped

 private:
  // Go's afterFuncCtx.once: whoever flips it first (OnCanceled or Stop)
  // decides whether f runs, and then owns f_.
  std::atomic<bool> once_{false};
  std::function<void()> f_;
};


}  // namespace go::context::internal

#endif  // GO_RUNTIME_CONTEXT_INTERNAL_CANCEL_CTX_H_
