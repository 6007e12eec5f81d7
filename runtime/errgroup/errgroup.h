// Package errgroup: a group of goroutines working on subtasks of one task,
// with error propagation, cancellation and an optional limit on how many run
// at once (golang.org/x/sync/errgroup, same contract).
//
//   Group        Go, TryGo, SetLimit, Wait.
//   WithContext  a Group plus a context cancelled (with the error as its
//                cause) on the first error or when Wait returns.
//
//   auto [g, ctx] = go::errgroup::WithContext(parent);
//   for (const auto& url : urls) g->Go([&, url] { return Fetch(ctx, url); });
//   absl::Status st = g->Wait();   // the first error, or OK
//
// Memory ordering: everything a task did before returning happens before
// Wait returns (as with sync::WaitGroup). The first error is recorded before
// the group's context is cancelled, so a task that sees ctx.Done() closed
// because of it sees the error in Cause(ctx).
//
// Exceptions. An exception escaping a task is a panic: the process dies with
// "panic: <what()>" and the goroutine dump, as it does for any goroutine. It
// is deliberately NOT turned into an error returned by Wait, for the reasons
// errgroup gives for not recovering panics: an exception nobody planned for
// means a broken invariant, and converting it to a Status would let Wait's
// caller carry on with state the failed task left half-updated, while the
// other tasks keep running against it; it would also lose the stack and the
// goroutine dump that point at the bug. A task that expects a failure
// should catch it and return it as a Status.
//
// Unlike Go (where the garbage collector keeps a Group alive for its
// goroutines), destroying a Group waits for the goroutines it started and
// then releases its context, as Wait does: call Wait anyway, it is what
// reports the error.
#ifndef GO_RUNTIME_ERRGROUP_ERRGROUP_H_
#define GO_RUNTIME_ERRGROUP_ERRGROUP_H_

#include <atomic>
#include <functional>
#include <memory>
#include <source_location>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "runtime/chan/chan.h"
#include "runtime/context/context.h"
#include "runtime/sync/waitgroup.h"

namespace go::errgroup {

// A Group is a collection of goroutines working on subtasks of one task. A
// default-constructed Group is valid: no limit, and no context to cancel.
// Neither copyable nor movable (its goroutines refer to it).
class Group {
 public:
  Group() = default;
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  // Go calls f in a new goroutine. It blocks until the goroutine can be added
  // without exceeding the limit set by SetLimit. The first f to return a
  // non-OK status cancels the group's context (WithContext) with that
  // status as the cause; Wait returns it.
  void Go(std::function<absl::Status()> f,
          std::source_location where = std::source_location::current());

  // TryGo calls f in a new goroutine only if the number of active goroutines
  // is below the limit, and reports whether it did.
  bool TryGo(std::function<absl::Status()> f,
             std::source_location where = std::source_location::current());

  // SetLimit limits the number of active goroutines to n; negative means no
  // limit. Go then blocks, and TryGo fails, while n goroutines are active.
  // The limit must not change while goroutines are active: that panics with
  // "errgroup: modify limit while N goroutines in the group are still
  // active" (x/sync panics only when a limit was already set; here any
  // active goroutine counts, since with no previous limit Go's version would
  // leave those goroutines releasing a slot they never took). A negative n
  // never panics.
  void SetLimit(int n);

  // Wait blocks until every function started by Go/TryGo has returned, then
  // cancels the group's context (if any) and returns the first non-OK
  // status, or OK.
  absl::Status Wait();

 private:
  friend std::pair<std::unique_ptr<Group>, context::Context> WithContext(
      const context::Context& parent);

  void Start(std::function<absl::Status()> f, Chan<std::monostate> sem,
             std::source_location where);
  void Finish(const absl::Status& st, const Chan<std::monostate>& sem);

  context::CancelCauseFunc cancel_;  // set by WithContext; immutable after
  sync::WaitGroup wg_;
  // The limit: a channel whose capacity is the limit and whose length is
  // the number of active goroutines (a semaphore, like x/sync). Nil: no
  // limit. Each goroutine releases the channel it acquired.
  Chan<std::monostate> sem_;
  std::atomic<int> active_{0};
  // The first error: claimed by exchange, then written once; read by Wait
  // after wg_.Wait() (which orders it after every task's return).
  std::atomic<bool> err_claimed_{false};
  absl::Status err_;
};

// WithContext returns a new Group and a context derived from parent, which
// is cancelled the first time a function passed to Go returns a non-OK
// status (that status becomes Cause(ctx)) or the first time Wait returns,
// whichever comes first.
std::pair<std::unique_ptr<Group>, context::Context> WithContext(const context::Context& parent);

}  // namespace go::errgroup

#endif  // GO_RUNTIME_ERRGROUP_ERRGROUP_H_
