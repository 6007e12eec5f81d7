// The Go-style concurrency runtime: one include for the whole public API.
//
//   go::Go, Gosched, NumGoroutine, GOMAXPROCS, Panic   runtime/goroutine.h
//   go::Sleep, Now                                      runtime/time/sleep.h
//
// See ../shared/API.md (binding) and docs/ for the internals.
#ifndef GO_RUNTIME_GO_H_
#define GO_RUNTIME_GO_H_

#include "runtime/goroutine.h"
#include "runtime/panic.h"
#include "runtime/time/sleep.h"

#endif  // GO_RUNTIME_GO_H_
