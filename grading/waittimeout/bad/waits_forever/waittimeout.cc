// Lab waittimeout, KNOWN-BAD submission waits_forever: RunWorkers waits for the tasks without any bound after cancelling them.
// (A copy of the reference answer with one bug; see MANIFEST.)
//
// Invariants:
//   [owner] the goroutine WaitContext starts holds its own shared_ptr to the WaitGroup (and to
//     the channel it closes), so everything it touches lives until it exits, however early
//     WaitContext's caller returns and drops its pointer.
//   [close-not-send] that goroutine reports by closing `done`, never by sending: a close never
//     blocks, so it exits as soon as Wait returns even when nobody listens any more (a send on
//     an unbuffered channel would block forever after a timeout: a leaked goroutine).
//   [cancel-always] every context this file derives is cancelled on every path out, which
//     stops its timer (WithTimeout) and detaches it from its parent.
#include "labs/waittimeout/waittimeout.h"

#include <functional>
#include <memory>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "runtime/go.h"

namespace lab::waittimeout {

absl::Status WaitContext(const go::context::Context& ctx, std::shared_ptr<go::sync::WaitGroup> wg) {
  auto done = go::MakeChan<std::monostate>();
  go::Go([wg, done] {  // [owner]: copies of both shared handles
    wg->Wait();
    done.Close();  // [close-not-send]
  });
  absl::Status result;
  go::Select(go::OnRecv(done, [&] { result = absl::OkStatus(); }),
             go::OnRecv(ctx.Done(), [&] { result = ctx.Err(); }));
  return result;
}

absl::Status WaitTimeout(std::shared_ptr<go::sync::WaitGroup> wg, absl::Duration timeout) {
  auto [ctx, cancel] = go::context::WithTimeout(go::context::Background(), timeout);
  absl::Status st = WaitContext(ctx, std::move(wg));
  cancel();  // [cancel-always]: the timer goes now, not when it would have fired
  return st;
}

absl::Status RunWorkers(const go::context::Context& ctx,
                        std::vector<std::function<void(go::context::Context)>> tasks,
                        absl::Duration grace) {
  auto [task_ctx, cancel] = go::context::WithCancel(ctx);
  auto wg = std::make_shared<go::sync::WaitGroup>();
  for (auto& task : tasks) {
    wg->Add(1);
    go::Go([wg, task_ctx = task_ctx, task = std::move(task)] {
      task(task_ctx);
      wg->Done();
    });
  }
  absl::Status st = WaitContext(ctx, wg);
  cancel();  // [cancel-always]; if ctx won, this is what tells the tasks to stop
  if (st.ok()) return st;
  (void)grace;
  wg->Wait();  // BUG: a task that ignores its context keeps RunWorkers waiting forever
  return st;
  return absl::DeadlineExceededError(absl::StrCat(
      "the workers did not stop within the grace period of ", absl::FormatDuration(grace),
      " after the context was done (", st.ToString(), ")"));
}

}  // namespace lab::waittimeout
