// Which runtime packages this checkout has, for the benchmark workloads.
//
// The runtime grows one Go package at a time (runtime/chan, runtime/sync, runtime/context, ...),
// and a workload can only be compiled once the packages it uses exist. Each BENCH_HAVE_* below
// is 1 when the package's header is reachable through //runtime:go (the only runtime target
// bench/ depends on), else 0. A workload whose package is missing is still listed, and
// `./course bench` reports it as unavailable, naming the package: it is never faked with
// something else.
//
// Why __has_include and not one Bazel target per package: bench/BUILD.bazel must keep building
// (it is part of `bazel test //...`) in every checkout, including those where a package does
// not exist yet, and Bazel cannot depend on a target that may be missing. Bazel's sandbox shows
// the compiler only the headers of declared dependencies, so __has_include answers exactly
// "does //runtime:go export this package".
#ifndef GO_BENCH_FEATURES_H_
#define GO_BENCH_FEATURES_H_

#include "runtime/go.h"

// Channels and select: Chan, MakeChan, Select, OnRecv.
#if __has_include("runtime/chan/chan.h") && __has_include("runtime/chan/select.h")
#define BENCH_HAVE_CHAN 1
#include "runtime/chan/chan.h"
#include "runtime/chan/select.h"
#else
#define BENCH_HAVE_CHAN 0
#endif

// Package sync: Mutex, RWMutex, WaitGroup, Once, Pool.
#if __has_include("runtime/sync/mutex.h") && __has_include("runtime/sync/waitgroup.h")
#define BENCH_HAVE_SYNC 1
#include "runtime/sync/mutex.h"
#include "runtime/sync/waitgroup.h"
#else
#define BENCH_HAVE_SYNC 0
#endif
#if BENCH_HAVE_SYNC && __has_include("runtime/sync/rwmutex.h")
#define BENCH_HAVE_RWMUTEX 1
#include "runtime/sync/rwmutex.h"
#else
#define BENCH_HAVE_RWMUTEX 0
#endif
#if BENCH_HAVE_SYNC && __has_include("runtime/sync/once.h")
#define BENCH_HAVE_ONCE 1
#include "runtime/sync/once.h"
#else
#define BENCH_HAVE_ONCE 0
#endif
#if BENCH_HAVE_SYNC && __has_include("runtime/sync/pool.h")
#define BENCH_HAVE_POOL 1
#include "runtime/sync/pool.h"
#else
#define BENCH_HAVE_POOL 0
#endif

// Package context: Background, WithCancel, Context::Done/Err.
#if __has_include("runtime/context/context.h")
#define BENCH_HAVE_CONTEXT 1
#include "runtime/context/context.h"
#else
#define BENCH_HAVE_CONTEXT 0
#endif

// Package time, part 2: After, Timer (part 1, Sleep, is always there).
#if __has_include("runtime/time/timer.h")
#define BENCH_HAVE_TIMER 1
#include "runtime/time/timer.h"
#else
#define BENCH_HAVE_TIMER 0
#endif

#endif  // GO_BENCH_FEATURES_H_
