// Package time, part 1: the runtime clock and Sleep.
//
// Now() is the runtime's clock: real time normally, the bubble's virtual
// clock (starting 2000-01-01 00:00:00 UTC) inside a synctest bubble. Sleep
// parks the calling goroutine on a runtime timer (a plain thread sleeps).
#ifndef GO_RUNTIME_TIME_SLEEP_H_
#define GO_RUNTIME_TIME_SLEEP_H_

#include <source_location>

#include "absl/time/time.h"

namespace go {

// Sleep pauses the current goroutine for at least d. d <= 0 returns at once.
void Sleep(absl::Duration d, std::source_location where = std::source_location::current());

// Now returns the current time of the runtime's clock.
absl::Time Now();

}  // namespace go

#endif  // GO_RUNTIME_TIME_SLEEP_H_
