// Goroutines: go::Go, Gosched, NumGoroutine, GOMAXPROCS.
//
// go::Go(fn) starts fn on a new goroutine: a stackful fiber scheduled M:N on
// GOMAXPROCS worker threads by a work-stealing scheduler (G/M/P, as in Go's
// runtime; see docs/runtime/scheduler.md). The runtime starts on first use.
//
// Memory ordering: everything the caller did before Go(fn) happens before fn
// starts (Go's "go statement" rule).
//
// Scheduling is cooperative: a goroutine runs until it blocks on a runtime
// primitive, calls Gosched, or exits; or, once it has held its P for 10ms
// while other work waits, until its next go statement, channel operation or
// lock slow path (a preemption point: docs/runtime/scheduler.md). An exception escaping fn ends the
// process like a Go panic ("panic: <what()>", goroutine dump, exit 2).
#ifndef GO_RUNTIME_GOROUTINE_H_
#define GO_RUNTIME_GOROUTINE_H_

#include <new>
#include <source_location>
#include <type_traits>
#include <utility>

#include "runtime/panic.h"
#include "runtime/sched/g.h"
#include "runtime/sched/sched.h"

namespace go {

// Go starts fn() on a new goroutine. fn is moved (or copied) into the
// goroutine; small callables are stored inline in the goroutine record, so
// spawning does not allocate. `where` is shown in goroutine dumps.
template <typename F>
void Go(F&& fn, std::source_location where = std::source_location::current()) {
  using Fn = std::decay_t<F>;
  static_assert(std::is_invocable_v<Fn&>, "go::Go needs a callable taking no arguments");
  sched::G* g = sched::NewG(where);
  if constexpr (sizeof(Fn) <= sched::G::kInlineFn && alignof(Fn) <= 16 &&
                std::is_nothrow_move_constructible_v<Fn>) {
    ::new (static_cast<void*>(g->fn_inline)) Fn(std::forward<F>(fn));
    g->invoke = [](sched::G* x) { (*std::launder(reinterpret_cast<Fn*>(x->fn_inline)))(); };
    g->destroy = [](sched::G* x) { std::launder(reinterpret_cast<Fn*>(x->fn_inline))->~Fn(); };
  } else {
    g->fn_heap = new Fn(std::forward<F>(fn));
    g->invoke = [](sched::G* x) { (*static_cast<Fn*>(x->fn_heap))(); };
    g->destroy = [](sched::G* x) {
      delete static_cast<Fn*>(x->fn_heap);
      x->fn_heap = nullptr;
    };
  }
  sched::StartG(g);
  sched::PreemptPoint();  // a go statement is a preemption point, as in Go
}

// Gosched yields the processor, letting other goroutines run. On a plain
// thread it yields the OS thread.
inline void Gosched() { sched::Yield(); }

// NumGoroutine returns the number of goroutines that currently exist.
inline int NumGoroutine() { return sched::NumGoroutine(); }

// GOMAXPROCS sets the number of Ps (threads running goroutines at once) and
// returns the previous setting; n <= 0 only queries. The default is the
// GOMAXPROCS environment variable, else the number of hardware threads.
// Changing it while goroutines run is safe.
inline int GOMAXPROCS(int n) { return sched::SetMaxProcs(n); }

}  // namespace go

#endif  // GO_RUNTIME_GOROUTINE_H_
