// Go's select statement: go::Select with OnRecv / OnSend / OnDefault cases,
// and SelectDynamic over a run-time list of SelectCase (Go's reflect.Select).
//
//   int i = go::Select(
//       go::OnRecv(jobs, [&](std::optional<Job> j) { ... }),   // case j, ok := <-jobs
//       go::OnSend(out, result, [&] { ... }),                  // case out <- result
//       go::OnRecv(quit),                                      // case <-quit
//       go::OnDefault([&] { ... }));                           // default
//
// Select blocks until one case can proceed, or runs the default case if none
// can and there is one. When several cases are ready it picks one uniformly
// at random (sched::RandN: deterministic inside synctest bubbles). It then
// runs that case's callback (outside every channel lock) and returns the
// chosen case's argument index. A receive callback may take no argument or a
// std::optional<T> (std::nullopt: the channel is closed and drained). Cases on
// nil channels never proceed; a Select with no cases, or only nil channels and
// no default, blocks forever. A send case on a closed channel throws
// Panic("send on closed channel"), also when the channel is closed while the
// select waits. The value of a send case is moved into the channel only if
// that case is chosen. A channel may appear in several cases, also with both
// a send and a receive.
//
// Memory ordering: a case that completes is exactly the corresponding
// Send/Recv/closed-receive of chan.h, with the same happens-before edges.
//
// The protocol (Go's selectgo; see docs/runtime/channels.md): lock every
// channel in address order (so selects over the same channels in any order
// never deadlock), poll the cases in random order (pass 1); if none is ready,
// enqueue a waiter on every channel and park (pass 2); once woken, relock and
// remove the losing waiters (pass 3). An atomic claim on the select lets
// exactly one waker win. Waiters live on the caller's stack: a Select
// allocates nothing (SelectDynamic allocates only beyond 16 cases).
#ifndef GO_RUNTIME_CHAN_SELECT_H_
#define GO_RUNTIME_CHAN_SELECT_H_

#include <cstdint>
#include <optional>
#include <source_location>
#include <span>
#include <type_traits>
#include <utility>

#include "runtime/chan/chan.h"
#include "runtime/chan/chan_core.h"
#include "runtime/sched/g.h"

namespace go {
namespace chan_internal {

enum class CaseKind : uint8_t { kSend, kRecv, kDefault };

// RawCase: one type-erased case. c == null for the nil channel and default.
// elem: the send case's T* source, or the receive case's optional<T>*.
struct RawCase {
  ChanCore* c;
  void* elem;
  CaseKind kind;
};

// SelectGo runs the select protocol over cases[0, n) (n <= 65536) and
// returns the chosen index (a default case's index when nothing was ready).
// order must have room for 2n entries and waiters for n; both are scratch.
int SelectGo(RawCase* cases, int n, uint16_t* order, Waiter* waiters,
             std::source_location where);

// A callback that does nothing (cases without a body).
struct NoOp {
  template <typename... A>
  void operator()(A&&...) const noexcept {}
};

struct CaseTag {};
struct SelectCaseAccess;  // select.cc

template <typename T, typename F>
class RecvCase : public CaseTag {
 public:
  static_assert(std::is_invocable_v<F&, std::optional<T>> || std::is_invocable_v<F&>,
                "OnRecv callback must take std::optional<T> or nothing");
  RecvCase(ChanCore* c, ChanRef keep, F fn, std::source_location where)
      : c_(c), keep_(std::move(keep)), fn_(std::move(fn)), where_(where) {}
  RawCase Raw() noexcept { return {c_, &slot_, CaseKind::kRecv}; }
  void Run() {
    if constexpr (std::is_invocable_v<F&, std::optional<T>>) {
      fn_(std::move(slot_));
    } else {
      fn_();
    }
  }
  std::source_location where() const noexcept { return where_; }

 private:
  ChanCore* c_;
  ChanRef keep_;  // set only when the case was given a temporary handle
  F fn_;
  std::source_location where_;
  std::optional<T> slot_;
};

template <typename T, typename F>
class SendCase : public CaseTag {
 public:
  static_assert(std::is_invocable_v<F&>, "OnSend callback must take no arguments");
  SendCase(ChanCore* c, ChanRef keep, T value, F fn, std::source_location where)
      : c_(c), keep_(std::move(keep)), value_(std::move(value)), fn_(std::move(fn)), where_(where) {}
  RawCase Raw() noexcept { return {c_, &value_, CaseKind::kSend}; }
  void Run() { fn_(); }
  std::source_location where() const noexcept { return where_; }

 private:
  ChanCore* c_;
  ChanRef keep_;
  T value_;
  F fn_;
  std::source_location where_;
};

template <typename F>
class DefaultCase : public CaseTag {
 public:
  static_assert(std::is_invocable_v<F&>, "OnDefault callback must take no arguments");
  explicit DefaultCase(F fn) : fn_(std::move(fn)) {}
  RawCase Raw() noexcept { return {nullptr, nullptr, CaseKind::kDefault}; }
  void Run() { fn_(); }

 private:
  F fn_;
};

template <typename C>
inline constexpr bool kIsDefault = false;
template <typename F>
inline constexpr bool kIsDefault<DefaultCase<F>> = true;

// Where the select is, for goroutine dumps: the first channel case's site.
template <typename C, typename... Rest>
std::source_location SelectSite(const C& c, const Rest&... rest) {
  if constexpr (!kIsDefault<C>) {
    return c.where();
  } else if constexpr (sizeof...(Rest) > 0) {
    return SelectSite(rest...);
  } else {
    return std::source_location::current();
  }
}

}  // namespace chan_internal

// OnRecv(ch, fn): a receive case. fn() or fn(std::optional<T>) runs if the
// case is chosen (nullopt: closed). ch may be a Chan<T> or a RecvChan<T>; a
// temporary handle (e.g. After(d)) is kept alive by the case.
template <typename T, typename F = chan_internal::NoOp>
chan_internal::RecvCase<T, F> OnRecv(const Chan<T>& ch, F fn = {},
                                     std::source_location where = std::source_location::current()) {
  return {chan_internal::Access::Core(ch), {}, std::move(fn), where};
}
template <typename T, typename F = chan_internal::NoOp>
chan_internal::RecvCase<T, F> OnRecv(Chan<T>&& ch, F fn = {},
                                     std::source_location where = std::source_location::current()) {
  chan_internal::ChanCore* c = chan_internal::Access::Core(ch);
  return {c, chan_internal::Access::Take(std::move(ch)), std::move(fn), where};
}
template <typename T, typename F = chan_internal::NoOp>
chan_internal::RecvCase<T, F> OnRecv(const RecvChan<T>& ch, F fn = {},
                                     std::source_location where = std::source_location::current()) {
  return {chan_internal::Access::Core(ch), {}, std::move(fn), where};
}
template <typename T, typename F = chan_internal::NoOp>
chan_internal::RecvCase<T, F> OnRecv(RecvChan<T>&& ch, F fn = {},
                                     std::source_location where = std::source_location::current()) {
  chan_internal::ChanCore* c = chan_internal::Access::Core(ch);
  return {c, chan_internal::Access::Take(std::move(ch)), std::move(fn), where};
}

// OnSend(ch, value, fn): a send case; fn() runs if it is chosen. value is
// converted to T when the case is made, and moved into the channel only if
// the case is chosen. ch may be a Chan<T> or a SendChan<T>.
template <typename T, typename V, typename F = chan_internal::NoOp>
chan_internal::SendCase<T, F> OnSend(const Chan<T>& ch, V&& value, F fn = {},
                                     std::source_location where = std::source_location::current()) {
  return {chan_internal::Access::Core(ch), {}, T(std::forward<V>(value)), std::move(fn), where};
}
template <typename T, typename V, typename F = chan_internal::NoOp>
chan_internal::SendCase<T, F> OnSend(Chan<T>&& ch, V&& value, F fn = {},
                                     std::source_location where = std::source_location::current()) {
  chan_internal::ChanCore* c = chan_internal::Access::Core(ch);
  return {c, chan_internal::Access::Take(std::move(ch)), T(std::forward<V>(value)), std::move(fn),
          where};
}
template <typename T, typename V, typename F = chan_internal::NoOp>
chan_internal::SendCase<T, F> OnSend(const SendChan<T>& ch, V&& value, F fn = {},
                                     std::source_location where = std::source_location::current()) {
  return {chan_internal::Access::Core(ch), {}, T(std::forward<V>(value)), std::move(fn), where};
}
template <typename T, typename V, typename F = chan_internal::NoOp>
chan_internal::SendCase<T, F> OnSend(SendChan<T>&& ch, V&& value, F fn = {},
                                     std::source_location where = std::source_location::current()) {
  chan_internal::ChanCore* c = chan_internal::Access::Core(ch);
  return {c, chan_internal::Access::Take(std::move(ch)), T(std::forward<V>(value)), std::move(fn),
          where};
}

// OnDefault(fn): runs fn() when no other case is ready. At most one per Select.
template <typename F = chan_internal::NoOp>
chan_internal::DefaultCase<F> OnDefault(F fn = {}) {
  return chan_internal::DefaultCase<F>(std::move(fn));
}

// Select: see the file comment. Returns the chosen case's argument index.
template <typename... Cases>
int Select(Cases&&... cases) {
  constexpr int n = static_cast<int>(sizeof...(Cases));
  if constexpr (n == 0) {
    chan_internal::BlockForever(sched::WaitReason::kSelectNoCases, std::source_location::current());
  } else {
    static_assert((std::is_base_of_v<chan_internal::CaseTag, std::remove_cvref_t<Cases>> && ...),
                  "Select takes OnRecv / OnSend / OnDefault cases");
    static_assert((0 + ... + (chan_internal::kIsDefault<std::remove_cvref_t<Cases>> ? 1 : 0)) <= 1,
                  "Select: at most one OnDefault case");
    chan_internal::RawCase raw[n] = {cases.Raw()...};
    uint16_t order[2 * n];
    chan_internal::Waiter waiters[n];
    const int chosen =
        chan_internal::SelectGo(raw, n, order, waiters, chan_internal::SelectSite(cases...));
    int i = 0;
    ((i++ == chosen ? cases.Run() : void()), ...);
    return chosen;
  }
}

// SelectCase: one case of SelectDynamic. Holds a reference to its channel;
// `out` / `value` must stay valid until SelectDynamic returns.
class SelectCase {
 public:
  // A receive case. If chosen, *out holds the value, or std::nullopt when the
  // channel is closed and drained. out may be null to discard the value.
  template <typename T>
  static SelectCase Recv(const RecvChan<T>& ch, std::optional<T>* out) {
    return SelectCase(chan_internal::Access::Ref(ch), out, chan_internal::CaseKind::kRecv,
                      &chan_internal::OpsFor<T>::ResetDst);
  }
  template <typename T>
  static SelectCase Recv(const Chan<T>& ch, std::optional<T>* out) {
    return SelectCase(chan_internal::Access::Ref(ch), out, chan_internal::CaseKind::kRecv,
                      &chan_internal::OpsFor<T>::ResetDst);
  }
  // A send case. If chosen, *value is moved into the channel.
  template <typename T>
  static SelectCase Send(const SendChan<T>& ch, T* value) {
    return SelectCase(chan_internal::Access::Ref(ch), value, chan_internal::CaseKind::kSend, nullptr);
  }
  template <typename T>
  static SelectCase Send(const Chan<T>& ch, T* value) {
    return SelectCase(chan_internal::Access::Ref(ch), value, chan_internal::CaseKind::kSend, nullptr);
  }
  // The default case (at most one).
  static SelectCase Default() {
    return SelectCase({}, nullptr, chan_internal::CaseKind::kDefault, nullptr);
  }

 private:
  friend struct chan_internal::SelectCaseAccess;
  SelectCase(chan_internal::ChanRef ref, void* elem, chan_internal::CaseKind kind,
             void (*reset)(void*) noexcept)
      : ref_(std::move(ref)), elem_(elem), kind_(kind), reset_(reset) {}

  chan_internal::ChanRef ref_;
  void* elem_;
  chan_internal::CaseKind kind_;
  void (*reset_)(void*) noexcept;
};

// SelectDynamic is Select over a run-time list (Go's reflect.Select): blocks
// until one case proceeds (or picks the default case), uniformly at random
// among ready ones, and returns its index. Receive cases' `out` slots are
// reset first, so a chosen receive case with std::nullopt means "closed".
// Panics with "reflect.Select: multiple default cases" or "reflect.Select:
// too many cases (max 65536)". With no cases (or only nil channels and no
// default) it blocks forever. Fan-in over N channels:
//
//   std::vector<std::optional<int>> got(n);
//   std::vector<go::SelectCase> cases;
//   for (int i = 0; i < n; i++) cases.push_back(go::SelectCase::Recv(chans[i], &got[i]));
//   for (int open = n; open > 0;) {
//     int i = go::SelectDynamic(cases);
//     if (!got[i]) { cases[i] = go::SelectCase::Recv(go::RecvChan<int>(), &got[i]); open--; }
//     else Use(*got[i]);
//   }
int SelectDynamic(std::span<SelectCase> cases,
                  std::source_location where = std::source_location::current());

}  // namespace go

#endif  // GO_RUNTIME_CHAN_SELECT_H_
