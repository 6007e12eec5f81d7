// Lab waittimeout: your implementation. This is the only file the grader takes from you.
//
// Every function below compiles and fails its tests with "not implemented" until you write
// it. Read README.md first: it explains the pattern and the lifetime rule the tests check.
#include "labs/waittimeout/waittimeout.h"

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "runtime/go.h"

namespace lab::waittimeout {

absl::Status WaitContext(const go::context::Context& ctx, std::shared_ptr<go::sync::WaitGroup> wg) {
  // TODO(student): hand wg->Wait() to a goroutine that closes a channel when it returns, then
  // go::Select on that channel and on ctx.Done(). The goroutine may outlive this call: give it
  // its own copy of the shared_ptr (never a raw pointer or a reference to `wg`).
  return absl::UnimplementedError("WaitContext is not implemented yet (labs/waittimeout/waittimeout.cc)");
}

absl::Status WaitTimeout(std::shared_ptr<go::sync::WaitGroup> wg, absl::Duration timeout) {
  // TODO(student): a context with a timeout (and call its cancel function before returning,
  // so its timer goes away), then WaitContext.
  return absl::UnimplementedError("WaitTimeout is not implemented yet (labs/waittimeout/waittimeout.cc)");
}

absl::Status RunWorkers(const go::context::Context& ctx,
                        std::vector<std::function<void(go::context::Context)>> tasks,
                        absl::Duration grace) {
  // TODO(student): derive a cancellable context for the tasks, start each task on a
  // goroutine counted by a shared WaitGroup, wait with WaitContext; if ctx wins, cancel the
  // tasks and wait again with WaitTimeout(grace).
  return absl::UnimplementedError("RunWorkers is not implemented yet (labs/waittimeout/waittimeout.cc)");
}

}  // namespace lab::waittimeout
