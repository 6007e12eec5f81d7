// Package debug: looking inside the runtime (Go's runtime/debug and pprof's
// goroutine profile).
//
//   Goroutines()      a Go-style text dump of every goroutine and of every OS
//                     thread blocked on a runtime primitive: id, state, wait
//                     reason ("chan receive", "sync.Mutex.Lock", "sleep"...),
//                     how long it has waited, where it blocked and where it
//                     was created (std::source_location), and the parked
//                     fiber's symbolized stack (frame pointers permitting).
//                     The same dump goes to stderr on SIGQUIT (then exit 2,
//                     like Go; GO_NO_SIGQUIT_DUMP=1 leaves SIGQUIT alone).
//   Snapshot()        the same information as data, for tools and tests.
//
// Deadlock detection: when every goroutine is blocked, every OS thread of the
// process is either a runtime worker or blocked on a runtime primitive, and
// no timer or system call is pending, for longer than a grace period
// (GO_DEADLOCK_GRACE_MS, default 1000), the runtime prints Go's
// "fatal error: all goroutines are asleep - deadlock!" with the dump and
// exits with status 2. GO_DEADLOCK_DETECT=0 (or SetDeadlockDetection(false))
// turns it off. A thread the runtime cannot see (one that never blocked on a
// runtime primitive and is busy elsewhere) keeps it from firing, so it never
// reports a program that could still make progress.
#ifndef GO_RUNTIME_DEBUG_DEBUG_H_
#define GO_RUNTIME_DEBUG_DEBUG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace go::debug {

struct GoroutineInfo {
  int64_t id = 0;           // goroutine id; for a blocked thread, its kernel tid
  bool is_thread = false;   // an OS thread blocked on a runtime primitive
  std::string state;        // "running", "runnable", "syscall", or the wait reason
  absl::Duration waiting;   // how long it has been blocked (zero unless blocked)
  std::string blocked_at;   // "file:line (function)" of the blocking call, if blocked
  std::string created_at;   // "file:line (function)" of the go::Go call
  int64_t created_by = 0;   // id of the creating goroutine (0: a plain thread)
};

// Text dump of all goroutines (Go's format, plus creation and blocking sites).
std::string Goroutines();

// Structured view of the same, in no particular order.
std::vector<GoroutineInfo> Snapshot();

// Enables or disables the deadlock detector (see above).
void SetDeadlockDetection(bool enabled);

}  // namespace go::debug

#endif  // GO_RUNTIME_DEBUG_DEBUG_H_
