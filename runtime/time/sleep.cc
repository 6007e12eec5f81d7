#include "runtime/time/sleep.h"

#include <time.h>

#include "runtime/sched/sched.h"

namespace go {

void Sleep(absl::Duration d, std::source_location where) {
  if (d <= absl::ZeroDuration()) return;
  const int64_t ns = d >= absl::Hours(24 * 365 * 100) ? int64_t{1} << 62 : absl::ToInt64Nanoseconds(d);
  sched::G* g = sched::CurrentG();
  if (g->is_thread) {
    // A plain thread sleeps in the kernel: no M needs to watch a timer for it.
    struct timespec ts {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) != 0) {
    }
    return;
  }
  sched::Timer t;
  sched::InitTimer(&t);
  t.when = sched::Nanotime() + ns;
  t.arg = g;
  t.f = [](void* arg, uint64_t, int64_t) { sched::Ready(static_cast<sched::G*>(arg)); };
  // Arm the timer only once we are parked, so it cannot fire early (sched.h).
  sched::Park(
      [](sched::G*, void* arg) {
        sched::AddTimer(static_cast<sched::Timer*>(arg));
        return true;
      },
      &t, sched::WaitReason::kSleep, where);
}

absl::Time Now() { return absl::FromUnixNanos(sched::Walltime()); }

}  // namespace go
