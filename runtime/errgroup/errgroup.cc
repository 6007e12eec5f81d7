// errgroup.Group (golang.org/x/sync/errgroup).
//
// Invariants:
//   [E1] wg_ counts the goroutines started and not yet finished; active_
//        mirrors it for SetLimit's check and message.
//   [E2] A goroutine holds one slot of the semaphore it acquired (the sem_ of
//        the moment Go/TryGo ran, captured by value) and releases that same
//        channel when f returns, so a later SetLimit(-1) cannot make it
//        release a slot of a different channel.
//   [E3] err_ is written at most once, by the goroutine that wins
//        err_claimed_, before it cancels the context and before its
//        wg_.Done(); Wait reads it after wg_.Wait().
#include "runtime/errgroup/errgroup.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "runtime/chan/select.h"
#include "runtime/goroutine.h"
#include "runtime/panic.h"

namespace go::errgroup {

Group::~Group() {
  // No garbage collector keeps *this alive for its goroutines: wait for
  // them, then release the context as Wait would.
  Wait().IgnoreError();
}

void Group::Go(std::function<absl::Status()> f, std::source_location where) {
  Chan<std::monostate> sem = sem_;
  if (sem) sem.Send(std::monostate{}, where);  // blocks while the limit is reached
  Start(std::move(f), std::move(sem), where);
}

bool Group::TryGo(std::function<absl::Status()> f, std::source_location where) {
  Chan<std::monostate> sem = sem_;
  if (sem && Select(OnSend(sem, std::monostate{}), OnDefault()) != 0) return false;
  Start(std::move(f), std::move(sem), where);
  return true;
}

void Group::Start(std::function<absl::Status()> f, Chan<std::monostate> sem,
                  std::source_location where) {
  wg_.Add(1);  // [E1]
  active_.fetch_add(1, std::memory_order_relaxed);
  go::Go(
      [this, f = std::move(f), sem = std::move(sem)] {
        // An exception escaping f is not caught: it is a panic (see the header).
        absl::Status st = f();
        Finish(st, sem);
      },
      where);
}

void Group::Finish(const absl::Status& st, const Chan<std::monostate>& sem) {
  if (!st.ok() && !err_claimed_.exchange(true, std::memory_order_acq_rel)) {
    err_ = st;  // [E3]
    if (cancel_) cancel_(err_);
  }
  if (sem) sem.Recv();  // [E2] never blocks: we hold one of its values
  active_.fetch_sub(1, std::memory_order_relaxed);
  wg_.Done();
}

void Group::SetLimit(int n) {
  if (n < 0) {
    sem_ = Chan<std::monostate>();
    return;
  }
  if (int active = active_.load(std::memory_order_relaxed); active != 0) {
    throw Panic(absl::StrFormat(
        "errgroup: modify limit while %d goroutines in the group are still active", active));
  }
  sem_ = MakeChan<std::monostate>(static_cast<size_t>(n));
}

absl::Status Group::Wait() {
  wg_.Wait();
  if (cancel_) cancel_(err_);  // OK err_: the cause is Canceled
  return err_;
}

std::pair<std::unique_ptr<Group>, context::Context> WithContext(const context::Context& parent) {
  auto [ctx, cancel] = context::WithCancelCause(parent);
  auto g = std::make_unique<Group>();
  g->cancel_ = std::move(cancel);
  return {std::move(g), std::move(ctx)};
}

}  // namespace go::errgroup
