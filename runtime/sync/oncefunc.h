// OnceFunc and OnceValue (Go 1.21's sync.OnceFunc / sync.OnceValue).
//
// OnceFunc(f) returns a function that calls f only the first time it is
// called; OnceValue(f) returns a function that calls f the first time and
// returns f's result on every call. Both are safe for concurrent use: a
// concurrent caller waits until f has returned.
//
// If f throws, every call of the returned function rethrows the same
// exception object (std::exception_ptr), the first call included, as Go's
// versions re-panic with the same value each time. f itself is released
// (destroyed) after its one call, so its captures do not outlive it.
//
// Memory ordering: f's return happens before every call of the returned
// function returns (it is built on sync::Once).
#ifndef GO_RUNTIME_SYNC_ONCEFUNC_H_
#define GO_RUNTIME_SYNC_ONCEFUNC_H_

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "runtime/sync/once.h"

namespace go::sync {

// OnceFunc returns a function that invokes f only once (see above).
inline std::function<void()> OnceFunc(std::function<void()> f) {
  struct State {
    Once once;
    std::function<void()> f;
    std::exception_ptr thrown;  // set if f threw
  };
  auto st = std::make_shared<State>();
  st->f = std::move(f);
  return [st] {
    st->once.Do([&] {
      try {
        st->f();
      } catch (...) {
        st->thrown = std::current_exception();
      }
      st->f = nullptr;
    });
    if (st->thrown) std::rethrow_exception(st->thrown);
  };
}

// OnceValue returns a function that invokes f only once and returns the value
// f returned (a copy of it) on every call (see above).
template <typename T>
std::function<T()> OnceValue(std::function<T()> f) {
  struct State {
    Once once;
    std::function<T()> f;
    std::optional<T> value;
    std::exception_ptr thrown;
  };
  auto st = std::make_shared<State>();
  st->f = std::move(f);
  return [st]() -> T {
    st->once.Do([&] {
      try {
        st->value.emplace(st->f());
      } catch (...) {
        st->thrown = std::current_exception();
      }
      st->f = nullptr;
    });
    if (st->thrown) std::rethrow_exception(st->thrown);
    return *st->value;
  };
}

}  // namespace go::sync

#endif  // GO_RUNTIME_SYNC_ONCEFUNC_H_
