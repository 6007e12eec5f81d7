// Package time, part 2: time channels. go::After, Tick, Timer, Ticker.
//
// A Timer delivers the current time on its channel C() once its duration has
// passed; a Ticker delivers it every period. Semantics are Go 1.23's:
//   - C() behaves as an unbuffered channel (Len() and Cap() are 0). After
//     Stop or Reset returns, no value prepared before the call is received:
//     a value that fired but was not yet received is discarded.
//   - Timer::Stop and Timer::Reset return true if the call stopped a value
//     from being delivered (the timer was pending, or had fired into C() but
//     nobody had received yet), false if the value was already received or
//     the timer was already stopped.
//   - A Ticker drops ticks for slow receivers: at most one tick waits in C().
//   - A timer nobody references any more costs nothing: when the last handle
//     (the Timer or Ticker and every copy of its channel) is gone, the runtime
//     timer is removed. So After(d) in a select that another case won leaks
//     nothing, and a Ticker dropped without Stop stops.
//
// Timer and Ticker are cheap copyable handles: copies control the same timer
// (like Go's *Timer). A moved-from handle is uninitialized: Timer::Stop/Reset
// and Ticker::Reset on it panic with Go's messages, Ticker::Stop does nothing.
// Every method is safe to call from any goroutine or thread at any time.
//
// Memory ordering: everything the goroutine did before creating, Reset-ing
// (or, for a Ticker, creating) the timer happens before the receive of a value
// that this arming delivers. Stop/Reset and the delivery are ordered by the
// channel's lock: a value is either received before Stop/Reset returns, or
// never.
//
// The clock is the runtime's (sched::Nanotime): virtual inside a synctest
// bubble, like Sleep.
#ifndef GO_RUNTIME_TIME_TIMER_H_
#define GO_RUNTIME_TIME_TIMER_H_

#include <cstdint>

#include "absl/time/time.h"
#include "runtime/chan/chan.h"

namespace go {

// After waits for d to pass and then sends the current time on the returned
// channel (Go's time.After). If the channel is dropped before that, the timer
// is removed.
RecvChan<absl::Time> After(absl::Duration d);

// Tick returns the channel of a Ticker that is never stopped explicitly (it
// stops when the channel is dropped). Returns the nil channel if d <= 0.
RecvChan<absl::Time> Tick(absl::Duration d);

class Timer {
 public:
  // Timer starts a timer that sends the current time on C() after d (at
  // once if d <= 0).
  explicit Timer(absl::Duration d);

  // C returns the timer's channel (the nil channel for a moved-from Timer).
  RecvChan<absl::Time> C() const;

  // Stop prevents the timer from firing. Returns true if the call stopped a
  // delivery, false if the timer had already expired and its value was
  // received, or had been stopped. After Stop returns, C() delivers nothing
  // until the next Reset. Panics with "time: Stop called on uninitialized
  // Timer" on a moved-from Timer.
  bool Stop();

  // Reset changes the timer to expire after d (restarting a stopped or
  // expired timer). Returns what Stop would have returned. No value from the
  // earlier arming is received after Reset returns. Panics with "time: Reset
  // called on uninitialized Timer" on a moved-from Timer.
  bool Reset(absl::Duration d);

 private:
  chan_internal::ChanRef ref_;
};

class Ticker {
 public:
  // Ticker starts a ticker sending the time on C() every d. Panics with
  // "non-positive interval for NewTicker" if d <= 0.
  explicit Ticker(absl::Duration d);

  RecvChan<absl::Time> C() const;

  // Stop turns the ticker off: no tick is received after Stop returns (a
  // tick waiting in C() is discarded). Stop does not close C().
  void Stop();

  // Reset stops the ticker and restarts it with period d, the next tick d
  // from now. Panics with "non-positive interval for Ticker.Reset" if d <= 0.
  void Reset(absl::Duration d);

 private:
  chan_internal::ChanRef ref_;
};

namespace time_internal {
// The number of runtime timers currently armed for time channels (pending in
// a timer heap, or firing right now). For leak tests.
int64_t PendingTimers();
}  // namespace time_internal

}  // namespace go

#endif  // GO_RUNTIME_TIME_TIMER_H_
