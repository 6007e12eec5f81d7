// Another correct answer, written independently of solutions/waittimeout (grading/selfcheck.py
// requires full marks from it): buffered-channel reports, a Timer instead of a
// context for WaitTimeout, and a counter + channel instead of a WaitGroup in RunWorkers.
#include "labs/waittimeout/waittimeout.h"

#include <atomic>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "runtime/go.h"

namespace lab::waittimeout {
namespace {

// Starts a goroutine that waits on wg and reports on a buffered channel (never blocks).
go::RecvChan<bool> WaitAsync(std::shared_ptr<go::sync::WaitGroup> wg) {
  auto done = go::MakeChan<bool>(1);
  go::Go([wg = std::move(wg), done] {
    wg->Wait();
    done.Send(true);
  });
  return done;
}

}  // namespace

absl::Status WaitContext(const go::context::Context& ctx, std::shared_ptr<go::sync::WaitGroup> wg) {
  auto done = WaitAsync(std::move(wg));
  absl::Status out = absl::OkStatus();
  go::Select(go::OnRecv(done), go::OnRecv(ctx.Done(), [&] { out = ctx.Err(); }));
  return out;
}

absl::Status WaitTimeout(std::shared_ptr<go::sync::WaitGroup> wg, absl::Duration timeout) {
  auto done = WaitAsync(std::move(wg));
  go::Timer timer(timeout);
  absl::Status out = absl::OkStatus();
  go::Select(go::OnRecv(done),
             go::OnRecv(timer.C(), [&] { out = absl::DeadlineExceededError("timed out waiting"); }));
  timer.Stop();
  return out;
}

absl::Status RunWorkers(const go::context::Context& ctx,
                        std::vector<std::function<void(go::context::Context)>> tasks,
                        absl::Duration grace) {
  auto [child, cancel] = go::context::WithCancel(ctx);
  struct State {
    std::atomic<size_t> left;
    go::Chan<std::monostate> all_done = go::MakeChan<std::monostate>();
  };
  auto state = std::make_shared<State>();
  state->left.store(tasks.size());
  if (tasks.empty()) state->all_done.Close();
  for (auto& t : tasks) {
    go::Go([state, child = child, t = std::move(t)] {
      t(child);
      if (state->left.fetch_sub(1) == 1) state->all_done.Close();
    });
  }
  bool finished = false;
  go::Select(go::OnRecv(state->all_done, [&] { finished = true; }), go::OnRecv(ctx.Done()));
  if (finished) {
    cancel();
    return absl::OkStatus();
  }
  cancel();
  absl::Status err = ctx.Err();
  bool in_time = false;
  go::Select(go::OnRecv(state->all_done, [&] { in_time = true; }), go::OnRecv(go::After(grace)));
  if (in_time) return err;
  return absl::DeadlineExceededError("workers ignored cancellation past the grace period");
}

}  // namespace lab::waittimeout
