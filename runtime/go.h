// The Go-style concurrency runtime: one include for the whole public API.
//
//   go::Go, Gosched, NumGoroutine, GOMAXPROCS, Panic   runtime/goroutine.h
//   go::Sleep, Now                                      runtime/time/sleep.h
//   go::Chan RecvChan SendChan MakeChan                 runtime/chan/chan.h
//   go::Select OnRecv OnSend OnDefault SelectDynamic    runtime/chan/select.h
//   go::After Tick Timer Ticker                         runtime/time/timer.h
//   go::synctest::Test, Wait (deterministic bubbles)    runtime/synctest/synctest.h
//   go::sync::Mutex RWMutex WaitGroup Once Cond Pool Map runtime/sync/*.h
//   go::atomic::Int32 ... Pointer<T> Value<T>           runtime/atomic/atomic.h
//   go::context::Context WithCancel WithTimeout ...     runtime/context/context.h
//   go::errgroup::Group WithContext                     runtime/errgroup/errgroup.h
//   go::signal::Notify Stop NotifyContext               runtime/signal/signal.h
//
// See ../shared/API.md (binding) and docs/ for the internals.
#ifndef GO_RUNTIME_GO_H_
#define GO_RUNTIME_GO_H_

#include "runtime/atomic/atomic.h"
#include "runtime/chan/chan.h"
#include "runtime/chan/select.h"
#include "runtime/context/context.h"
#include "runtime/errgroup/errgroup.h"
#include "runtime/goroutine.h"
#include "runtime/panic.h"
#include "runtime/signal/signal.h"
#include "runtime/sync/cond.h"
#include "runtime/sync/map.h"
#include "runtime/sync/mutex.h"
#include "runtime/sync/once.h"
#include "runtime/sync/oncefunc.h"
#include "runtime/sync/pool.h"
#include "runtime/sync/rwmutex.h"
#include "runtime/sync/waitgroup.h"
#include "runtime/synctest/synctest.h"
#include "runtime/time/sleep.h"
#include "runtime/time/timer.h"

#endif  // GO_RUNTIME_GO_H_
