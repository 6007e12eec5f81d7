// Package signal: incoming Unix signals as channel values and context
// cancellation (Go's os/signal).
//
//   Notify(ch, {SIGINT, SIGTERM})   relay those signals to ch
//   Stop(ch)                        stop relaying to ch
//   NotifyContext(parent, {...})    a context cancelled when a signal arrives
//
// How it works (and why): the first Notify for a signal installs a tiny
// handler that only writes the signal number to a non-blocking pipe (write(2)
// is async-signal-safe; errno is preserved). One runtime-owned thread, started
// by the first Notify, reads the pipe and does the real work: for every
// channel registered for that signal, a non-blocking send. No allocation,
// lock or channel operation ever runs inside the signal handler. A handler
// rather than signalfd(2): signalfd needs the signal blocked in every thread,
// which a library cannot guarantee for threads created before it was first
// used (the runtime's own Ms, a test framework's threads); the handler works
// whichever thread the kernel picks.
//
// Delivery follows Go: a send that would block is dropped, so give the
// channel enough buffer (capacity 1 is enough to learn that a signal came).
// Signals arriving faster than the relay thread reads them may be dropped
// once the pipe (64 KiB) is full. When the last channel stops watching a
// signal, the signal's previous disposition is restored.
//
// Memory ordering: a goroutine that receives a signal number from its channel
// observes everything that happened before the relay thread sent it;
// after Stop(ch) returns, ch receives no more signals.
#ifndef GO_RUNTIME_SIGNAL_SIGNAL_H_
#define GO_RUNTIME_SIGNAL_SIGNAL_H_

#include <string>
#include <utility>
#include <vector>

#include "runtime/chan/chan.h"
#include "runtime/context/context.h"

namespace go::signal {

// Notify makes the runtime relay the given signals to ch (a non-blocking
// send per signal: dropped if ch is full). An empty list means every signal
// that can be caught asynchronously (all of 1..31 and the real-time signals
// except SIGKILL, SIGSTOP, the synchronous SIGSEGV, SIGBUS, SIGFPE, SIGILL,
// SIGTRAP, and SIGABRT and SIGPROF). Calling Notify again for the same ch
// adds signals. Unknown signal numbers are ignored.
// Panics with "os/signal: Notify using nil channel" for a nil ch.
void Notify(Chan<int> ch, const std::vector<int>& signals);

// Stop makes the runtime stop relaying signals to ch. When Stop returns, ch
// receives no more signals. Stopping a channel that was never registered
// does nothing.
void Stop(const Chan<int>& ch);

// NotifyContext returns a child of parent that is cancelled when one of the
// signals arrives, when the returned stop function is called, or when
// parent's Done closes, whichever happens first. stop() also unregisters the
// signals (call it as soon as possible: until then the signals keep being
// caught rather than getting their default behaviour, e.g. terminating the
// process). On a signal, Err() is Canceled() and Cause() is a CancelledError
// naming the signal ("signal received: SIGINT").
std::pair<context::Context, context::CancelFunc> NotifyContext(const context::Context& parent,
                                                               const std::vector<int>& signals);

// The signal's name, e.g. "SIGINT" (or "signal 42").
std::string SignalName(int sig);

}  // namespace go::signal

#endif  // GO_RUNTIME_SIGNAL_SIGNAL_H_
