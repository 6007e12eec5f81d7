// Package synctest: deterministic tests for concurrent code (Go's
// testing/synctest, plus seeded, replayable schedules).
//
// Test(f) runs f in a *bubble*: a private scheduler on the calling thread
// for f and every goroutine it starts (transitively). Inside a bubble:
//   * Time is virtual. The clock starts at 2000-01-01 00:00:00 UTC and moves
//     only when every bubble goroutine is durably blocked (on channels,
//     sync primitives, Sleep, timers of the bubble), jumping straight to the
//     next timer: Sleep(1h) takes microseconds.
//   * Scheduling is a pure function of a seed: which runnable goroutine runs
//     next, select's random choice and the preemption points the runtime
//     inserts at each channel/sync operation all draw from one generator.
//     The same seed replays the same interleaving and output.
//   * When every goroutine is blocked and no timer is pending, the bubble
//     is deadlocked: Test throws go::Panic whose message starts with
//     "deadlock: all goroutines in bubble are blocked", followed by the seed,
//     the command that replays it and a dump of the bubble's goroutines.
// Test returns when all bubble goroutines have exited.
//
// Seeds: Test uses $GO_SYNCTEST_SEED when set (a decimal uint64), otherwise
// a fresh random seed. The policy comes from $GO_SYNCTEST_POLICY: "random"
// (default: a random walk over runnable goroutines, preempting at runtime
// calls with probability 1/4) or "pct" (probabilistic concurrency testing:
// random priorities with a few priority-change points, good at bugs that
// need several unlucky switches). LastSeed() tells which seed the most
// recent bubble on this thread used; the gtest integration
// (//runtime/testing:gtest_main) prints it when a test fails.
//
// Limits: a bubble goroutine blocked on something only code outside the
// bubble can resolve (a channel fed by an outside goroutine) counts as
// durably blocked once nothing else can run; the bubble waits a short real
// grace period (100 ms) for outside wake-ups before declaring deadlock, but
// virtual time may already have advanced. Keep what a bubble waits on inside it.
#ifndef GO_RUNTIME_SYNCTEST_SYNCTEST_H_
#define GO_RUNTIME_SYNCTEST_SYNCTEST_H_

#include <cstdint>
#include <optional>
#include <source_location>

#include "absl/functional/function_ref.h"

namespace go::synctest {

enum class Policy { kRandom, kPCT };

struct Options {
  std::optional<uint64_t> seed;  // default: $GO_SYNCTEST_SEED, else random
  std::optional<Policy> policy;  // default: $GO_SYNCTEST_POLICY, else kRandom
};

// Runs f in a new bubble (see above) and returns when every goroutine of the
// bubble has exited. Throws go::Panic on deadlock, or when called from inside
// a bubble ("synctest.Run called from within a synctest bubble").
void Test(absl::FunctionRef<void()> f,
          std::source_location where = std::source_location::current());
void Test(const Options& options, absl::FunctionRef<void()> f,
          std::source_location where = std::source_location::current());

// Blocks until every other goroutine of the current bubble is durably
// blocked. Panics outside a bubble ("synctest.Wait not called from within a
// synctest bubble") and when another Wait is in progress.
void Wait();

// The seed used by the most recent bubble started on this thread, and how
// many bubbles this thread has started (so a test harness can tell whether
// a test ran one).
uint64_t LastSeed();
uint64_t BubblesStarted();

// Runs `body` in a bubble once per seed in [first_seed, first_seed + runs)
// and returns the first seed for which body returned false (or threw), or
// std::nullopt when all runs passed. Replay a found seed with
// Test(Options{.seed = s}, ...) or GO_SYNCTEST_SEED=s.
std::optional<uint64_t> FindFailingSeed(absl::FunctionRef<bool()> body, int runs,
                                        uint64_t first_seed = 1,
                                        Policy policy = Policy::kRandom);

}  // namespace go::synctest

#endif  // GO_RUNTIME_SYNCTEST_SYNCTEST_H_
