// Package context: cancellation, deadlines and request-scoped values that
// flow down a call tree (Go's `context`).
//
//   Context        a cheap copyable handle on a context; default-constructed
//                  it is Background(). Copies share the same context.
//   Interface      what a context is (Go's `Context` interface). Implement it
//                  to write your own context type; wrap it with
//                  Context(std::make_shared<MyCtx>(...)).
//   Key<T>         a typed key for WithValue/Value; its identity is the Key
//                  object itself (two Key objects never collide).
//   Background, TODO, WithCancel, WithCancelCause, WithDeadline,
//   WithDeadlineCause, WithTimeout, WithTimeoutCause, WithValue,
//   WithoutCancel, Cause, AfterFunc, Canceled, DeadlineExceeded.
//
// Cancelling a context closes its Done() channel exactly once, sets Err() to
// Canceled() or DeadlineExceeded(), records its cause, cancels every context
// derived from it and unlinks it from its parent (so a long-lived parent with
// many short-lived children keeps flat memory). A deadline's timer is stopped
// when the context is cancelled early. Always call the CancelFunc once the
// work is done: until then a child stays referenced by its parent, exactly as
// Go documents ("failing to call the CancelFunc leaks the child and its
// children until the parent is canceled"); with no garbage collector, a child
// dropped uncancelled under a parent that is itself dropped uncancelled is
// never freed at all.
//
// Memory ordering: for a context c, everything a goroutine did before it
// cancelled c (or before c's deadline timer fired) is visible to a goroutine
// after it observes c.Done() closed, c.Err() non-OK or Cause(c) non-OK. The
// same holds for every context derived from c. Values stored by WithValue are
// immutable and visible wherever the returned context is.
//
// A user-written parent (an Interface that is not one of this package's
// types) is handled the way Go handles foreign contexts: if it wraps one of
// ours (its Value() hands our internal key on and its Done() is the same
// channel) the child links to that; else, if it offers AfterFunc, the child
// registers there; else a goroutine waits on the parent's Done() or the
// child's, whichever closes first.
//
// Deadlines use the runtime clock (go::Now()), so they run on virtual time
// inside synctest bubbles.
#ifndef GO_RUNTIME_CONTEXT_CONTEXT_H_
#define GO_RUNTIME_CONTEXT_CONTEXT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "runtime/chan/chan.h"

namespace go::context {

class Context;
class Interface;
class KeyBase;

namespace internal {
class EmptyCtx;
class ValueCtxBase;
class WithoutCancelCtx;
class CancelCtx;
// Go's value(): walks c's chain of this package's context types without
// virtual calls and asks the first user-written context it meets.
const void* LookupValue(const Interface* c, const KeyBase& key);
void ReleaseParent(Context& parent);
struct ContextAccess;
}  // namespace internal

// KeyBase is the untyped identity of a Key: what Interface::Value receives.
// Keys are neither copyable nor movable: a copy would be a different key.
class KeyBase {
 public:
  explicit KeyBase(std::string_view name = "") : name_(name) {}
  KeyBase(const KeyBase&) = delete;
  KeyBase& operator=(const KeyBase&) = delete;

  // Name returns the name given at construction (for debugging only: two
  // keys with the same name are still different keys).
  const std::string& Name() const { return name_; }

 private:
  std::string name_;
};

// Key<T> names a value of type T stored by WithValue. Declare keys as
// long-lived objects (globals, statics, members): a context remembers the
// key's address, so a key must outlive every context that carries it.
template <typename T>
class Key : public KeyBase {
 public:
  explicit Key(std::string_view name = "") : KeyBase(name) {}
};

// Interface is what every context implements (Go's Context interface).
// Implementations must be safe for concurrent use: many goroutines call these
// methods at once.
class Interface {
 public:
  virtual ~Interface() = default;
  Interface(const Interface&) = delete;
  Interface& operator=(const Interface&) = delete;

  // Deadline returns when work done on behalf of this context should be
  // cancelled, or nullopt when there is no deadline.
  virtual std::optional<absl::Time> Deadline() const = 0;
  // Done returns a channel closed when this context is cancelled, or a nil
  // channel if it can never be cancelled. Successive calls return the same
  // channel.
  virtual RecvChan<std::monostate> Done() const = 0;
  // Err returns OK while Done is open; after that, why the context was
  // cancelled (Canceled() or DeadlineExceeded()), the same value every time.
  virtual absl::Status Err() const = 0;
  // Value returns a pointer to the value stored for key, or nullptr.
  // Implementations return their own values and otherwise MUST delegate to
  // their parent (also for keys they do not recognise: the runtime finds
  // the cancelable context an implementation wraps that way).
  virtual const void* Value(const KeyBase& key) const = 0;
  // AfterFunc (optional, Go's afterFuncer): arranges for f to be called in
  // its own goroutine once this context is done, and returns stop(), which
  // reports whether it prevented that. Return an empty std::function (the
  // default) when the type does not offer it.
  virtual std::function<bool()> AfterFunc(std::function<void()> f) const { return {}; }

 protected:
  Interface() = default;

 private:
  friend class internal::EmptyCtx;
  friend class internal::ValueCtxBase;
  friend class internal::WithoutCancelCtx;
  friend class internal::CancelCtx;
  friend const void* internal::LookupValue(const Interface*, const KeyBase&);
  friend void internal::ReleaseParent(Context&);
  enum class Kind : uint8_t { kForeign, kEmpty, kValue, kWithoutCancel, kCancel };
  explicit Interface(Kind kind) : kind_(kind) {}
  // Which of this package's types this is (kForeign: user-written). Lets the
  // runtime walk its own chains without virtual calls or dynamic_cast.
  const Kind kind_ = Kind::kForeign;
};

// Context is a cheap, copyable handle on a context (one shared_ptr). A
// default-constructed Context is Background(). Handles compare equal when
// they refer to the same context.
class Context {
 public:
  Context() = default;
  // Wraps a user-written context (a null pointer gives Background()).
  explicit Context(std::shared_ptr<const Interface> impl) : impl_(std::move(impl)) {}

  std::optional<absl::Time> Deadline() const {
    return impl_ ? impl_->Deadline() : std::nullopt;
  }
  RecvChan<std::monostate> Done() const {
    return impl_ ? impl_->Done() : RecvChan<std::monostate>();
  }
  absl::Status Err() const { return impl_ ? impl_->Err() : absl::OkStatus(); }
  // Value returns the value stored for key by the nearest WithValue (or a
  // user-written context) on the way up, or nullptr. The pointer stays valid
  // while any handle on this context lives.
  template <typename T>
  const T* Value(const Key<T>& key) const {
    return static_cast<const T*>(internal::LookupValue(impl_.get(), key));
  }
  // The untyped lookup, for user-written contexts that hand a key they do
  // not know on to the context they wrap (Interface::Value).
  const void* Value(const KeyBase& key) const { return internal::LookupValue(impl_.get(), key); }

  friend bool operator==(const Context& a, const Context& b) { return a.impl_ == b.impl_; }

 private:
  // The handle deliberately gives no access to its shared_ptr: with no
  // copies or weak_ptrs of it outside this package, "use_count() == 1"
  // proves exclusive ownership, which lets contexts free long parent chains
  // without recursion (internal::ReleaseParent).
  friend struct internal::ContextAccess;
  std::shared_ptr<const Interface> impl_;  // null: Background()
};

// CancelFunc tells an operation to abandon its work; it does not wait for the
// work to stop. After the first call, calls do nothing. Safe to call from any
// goroutine, any number of times.
using CancelFunc = std::function<void()>;
// CancelCauseFunc is a CancelFunc that also records the cause: Cause(ctx)
// returns it (an OK cause means Canceled()).
using CancelCauseFunc = std::function<void(absl::Status cause)>;

// Canceled is Err() for a context cancelled by its CancelFunc:
// absl::CancelledError("context canceled").
absl::Status Canceled();
// DeadlineExceeded is Err() for a context whose deadline passed:
// absl::DeadlineExceededError("context deadline exceeded").
absl::Status DeadlineExceeded();

// Background returns the empty root context: never cancelled, no values, no
// deadline (the same as Context()).
Context Background();
// TODO returns an empty context, for code that has not decided which context
// to use yet. Like Background, but a different context.
Context TODO();

// WithCancel returns a child of parent with a new Done channel, closed when
// the returned CancelFunc is called or when parent's Done closes, whichever
// happens first.
std::pair<Context, CancelFunc> WithCancel(const Context& parent);
// WithCancelCause is WithCancel whose cancel function records a cause.
std::pair<Context, CancelCauseFunc> WithCancelCause(const Context& parent);

// WithDeadline returns a child of parent whose deadline is no later than d:
// if parent's deadline is already earlier, it is WithCancel(parent). Done
// closes at the deadline (Err() = DeadlineExceeded()), when cancel is called,
// or when parent's Done closes, whichever happens first; if d has already
// passed the context is born cancelled with DeadlineExceeded(). Cancelling
// stops the deadline's timer.
std::pair<Context, CancelFunc> WithDeadline(const Context& parent, absl::Time d);
// WithDeadlineCause is WithDeadline that sets Cause() to `cause` (when not
// OK) when the deadline passes. The CancelFunc does not set the cause.
std::pair<Context, CancelFunc> WithDeadlineCause(const Context& parent, absl::Time d,
                                                 absl::Status cause);
// WithTimeout is WithDeadline(parent, Now() + timeout).
std::pair<Context, CancelFunc> WithTimeout(const Context& parent, absl::Duration timeout);
// WithTimeoutCause is WithDeadlineCause(parent, Now() + timeout, cause).
std::pair<Context, CancelFunc> WithTimeoutCause(const Context& parent, absl::Duration timeout,
                                                absl::Status cause);

// WithValue returns a child of parent carrying value under key. T comes
// from the key alone, so WithValue(ctx, kName, "literal") works for a
// Key<std::string>.
template <typename T>
Context WithValue(const Context& parent, const Key<T>& key, std::type_identity_t<T> value);

// WithoutCancel returns a child of parent that is not cancelled when parent
// is: no deadline, a nil Done channel, Err() always OK, Cause() OK. Values
// are still inherited.
Context WithoutCancel(const Context& parent);

// Cause returns why c was cancelled: the cause given to a CancelCauseFunc or
// to WithDeadlineCause/WithTimeoutCause, else c.Err() (the cause of a
// context cancelled through a parent is the parent's cause). OK while c is
// not cancelled.
absl::Status Cause(const Context& c);

// AfterFunc arranges to call f in its own goroutine after c is done
// (cancelled or past its deadline); if c is already done, f's goroutine
// starts at once. Several AfterFuncs on one context run independently.
// Calling the returned stop() disconnects f from c: it returns true if that
// prevented f from being run, false if f has already been started or
// stopped. stop() does not wait for f to finish. If c never ends (Done() is
// nil), f never runs. If c offers Interface::AfterFunc, that schedules the
// call.
std::function<bool()> AfterFunc(const Context& c, std::function<void()> f);

// ---------------------------------------------------------------------------
// Implementation details.

namespace internal {

// The runtime's access to a handle's pointer.
struct ContextAccess {
  static const Interface* Get(const Context& c) { return c.impl_.get(); }
  static std::shared_ptr<const Interface>& Ptr(Context& c) { return c.impl_; }
};

// Drops a context's reference to its parent without recursing: when that
// frees the parent, whose destructor drops its own parent, and so on, the
// chain is freed in a loop rather than by nested destructors (a chain of
// thousands of contexts would otherwise overflow a goroutine's stack).
// Called by every destructor of this package's contexts.
void ReleaseParent(Context& parent);

// The identity behind Background() and TODO().
class EmptyCtx final : public Interface {
 public:
  EmptyCtx() : Interface(Kind::kEmpty) {}
  std::optional<absl::Time> Deadline() const override { return std::nullopt; }
  RecvChan<std::monostate> Done() const override { return {}; }
  absl::Status Err() const override { return absl::OkStatus(); }
  const void* Value(const KeyBase&) const override { return nullptr; }
};

// Go's valueCtx: one key/value pair on top of a parent.
class ValueCtxBase : public Interface {
 public:
  ~ValueCtxBase() override { ReleaseParent(parent_); }
  std::optional<absl::Time> Deadline() const override { return parent_.Deadline(); }
  RecvChan<std::monostate> Done() const override { return parent_.Done(); }
  absl::Status Err() const override { return parent_.Err(); }
  const void* Value(const KeyBase& key) const override { return LookupValue(this, key); }

 protected:
  ValueCtxBase(Context parent, const KeyBase* key)
      : Interface(Kind::kValue), parent_(std::move(parent)), key_(key) {}

  const void* value_ = nullptr;  // set by the derived constructor, then immutable

 private:
  friend const void* LookupValue(const Interface*, const KeyBase&);
  friend void ReleaseParent(Context&);
  friend class CancelCtx;
  Context parent_;  // immutable until the destructor
  const KeyBase* const key_;
};

template <typename T>
class ValueCtx final : public ValueCtxBase {
 public:
  ValueCtx(Context parent, const KeyBase* key, T value)
      : ValueCtxBase(std::move(parent), key), v_(std::move(value)) {
    value_ = &v_;
  }

 private:
  const T v_;
};

// Test-only introspection (leak checks in tests/stress and runtime/context).
// The number of children linked under c's nearest cancelable context (0 for
// a context that cannot be cancelled or has been cancelled).
size_t NumChildrenForTest(const Context& c);
// Deadline timers currently armed, process-wide.
int64_t ArmedTimersForTest();
// Goroutines ever started to watch a foreign parent's Done().
int64_t PropagationGoroutinesForTest();
// Cancelable contexts (WithCancel, WithDeadline, AfterFunc) alive, process-wide.
int64_t LiveCancelCtxForTest();

}  // namespace internal

template <typename T>
Context WithValue(const Context& parent, const Key<T>& key, std::type_identity_t<T> value) {
  return Context(std::make_shared<internal::ValueCtx<T>>(parent, &key, std::move(value)));
}

}  // namespace go::context

#endif  // GO_RUNTIME_CONTEXT_CONTEXT_H_
