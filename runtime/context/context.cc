// Package context: the public constructors, value lookup and Cause.
//
// Invariants:
//   [V1] Every context of this package is immutable after construction
//        except CancelCtx's cancellation state (internal/cancel_ctx.cc), so
//        Deadline/Value walks need no locks.
//   [V2] Interface::kind_ says which concrete type a context is; LookupValue
//        and Propagate rely on it to cast without dynamic_cast, so only the
//        types below (and internal/cancel_ctx.h) may use a kind other than
//        kForeign.
//   [V3] No shared_ptr or weak_ptr to a context of this package exists
//        outside Context handles and this package's own members.
#include "runtime/context/context.h"

#include <memory>
#include <utility>

#include "runtime/context/internal/cancel_ctx.h"
#include "runtime/sched/small_alloc.h"
#include "runtime/time/sleep.h"

namespace go::context {
namespace internal {

// Go's withoutCancelCtx: values of the parent, none of its cancellation.
class WithoutCancelCtx final : public Interface {
 public:
  explicit WithoutCancelCtx(Context parent)
      : Interface(Kind::kWithoutCancel), parent_(std::move(parent)) {}
  ~WithoutCancelCtx() override { ReleaseParent(parent_); }
  std::optional<absl::Time> Deadline() const override { return std::nullopt; }
  RecvChan<std::monostate> Done() const override { return {}; }
  absl::Status Err() const override { return absl::OkStatus(); }
  const void* Value(const KeyBase& key) const override { return LookupValue(this, key); }

 private:
  friend const void* LookupValue(const Interface*, const KeyBase&);
  friend void ReleaseParent(Context&);
  Context parent_;  // immutable until the destructor
};

const void* LookupValue(const Interface* c, const KeyBase& key) {
  for (;;) {
    if (c == nullptr) return nullptr;  // Background
    switch (c->kind_) {  // [V2]
      case Interface::Kind::kEmpty:
        return nullptr;
      case Interface::Kind::kValue: {
        auto* v = static_cast<const ValueCtxBase*>(c);
        if (v->key_ == &key) return v->value_;
        c = ContextAccess::Get(v->parent_);
        continue;
      }
      case Interface::Kind::kCancel: {
        auto* cc = static_cast<const CancelCtx*>(c);
        if (&key == &CancelCtxKey()) return cc;
        c = ContextAccess::Get(cc->parent_);
        continue;
      }
      case Interface::Kind::kWithoutCancel: {
        // Hides the parent's cancellation: Cause() must not find it.
        if (&key == &CancelCtxKey()) return nullptr;
        c = ContextAccess::Get(static_cast<const WithoutCancelCtx*>(c)->parent_);
        continue;
      }
      case Interface::Kind::kForeign:
        return c->Value(key);
    }
    return nullptr;
  }
}

void ReleaseParent(Context& parent) {
  std::shared_ptr<const Interface> p = std::move(ContextAccess::Ptr(parent));
  // [V3] While we hold the only reference to a context of ours, nobody else
  // can reach it: the handle never exposes its shared_ptr, so no other copy
  // or weak_ptr can appear. We may then take its parent before freeing it,
  // and the chain is freed by this loop instead of by nested destructors.
  while (p && p.use_count() == 1) {
    Context* up = nullptr;  // where p keeps its parent handle
    switch (p->kind_) {
      case Interface::Kind::kValue:
        up = &const_cast<ValueCtxBase*>(static_cast<const ValueCtxBase*>(p.get()))->parent_;
        break;
      case Interface::Kind::kCancel:
        up = &const_cast<CancelCtx*>(static_cast<const CancelCtx*>(p.get()))->parent_;
        break;
      case Interface::Kind::kWithoutCancel:
        up = &const_cast<WithoutCancelCtx*>(static_cast<const WithoutCancelCtx*>(p.get()))->parent_;
        break;
      case Interface::Kind::kEmpty:
      case Interface::Kind::kForeign:
        break;
    }
    if (up == nullptr) break;
    // use_count() is a relaxed load; this copy's acq_rel increment
    // synchronizes with the release of every former owner's reference, so
    // their last reads of *p happen before our write below.
    { std::shared_ptr<const Interface> sync = p; }
    std::shared_ptr<const Interface> next = std::move(ContextAccess::Ptr(*up));
    p.reset();  // frees p; its destructor finds its parent already taken
    p = std::move(next);
  }
  // Shared (or not ours): dropping our reference does not free a chain.
}

namespace {

const std::shared_ptr<const Interface>& TodoImpl() {
  // Never destroyed: contexts may be used from threads still running at exit.
  static const auto* todo = new std::shared_ptr<const Interface>(std::make_shared<EmptyCtx>());
  return *todo;
}

// Contexts come from the runtime's small-object allocator: building a tree
// of fresh contexts is otherwise bound by the page faults of fresh heap
// memory (docs/runtime/context.md, "Memory").
template <typename T, typename... Args>
std::shared_ptr<T> New(Args&&... args) {
  return std::allocate_shared<T>(sched::SmallAllocator<T>(), std::forward<Args>(args)...);
}

// The nearest CancelCtx c's Value chain leads to, or null.
const CancelCtx* NearestCancelCtx(const Context& c) {
  return static_cast<const CancelCtx*>(LookupValue(ContextAccess::Get(c), CancelCtxKey()));
}

}  // namespace

size_t NumChildrenForTest(const Context& c) {
  const CancelCtx* cc = NearestCancelCtx(c);
  return cc != nullptr ? cc->NumChildren() : 0;
}

}  // namespace internal

absl::Status Canceled() { return internal::CanceledStatus(); }
absl::Status DeadlineExceeded() { return internal::DeadlineExceededStatus(); }

Context Background() { return Context(); }
Context TODO() { return Context(internal::TodoImpl()); }

std::pair<Context, CancelFunc> WithCancel(const Context& parent) {
  auto c = internal::New<internal::CancelCtx>(parent);
  c->Propagate(c);
  CancelFunc cancel = [c] { c->Cancel(true, internal::CanceledStatus(), absl::OkStatus()); };
  return {Context(std::move(c)), std::move(cancel)};
}

std::pair<Context, CancelCauseFunc> WithCancelCause(const Context& parent) {
  auto c = internal::New<internal::CancelCtx>(parent);
  c->Propagate(c);
  CancelCauseFunc cancel = [c](absl::Status cause) {
    c->Cancel(true, internal::CanceledStatus(), cause);
  };
  return {Context(std::move(c)), std::move(cancel)};
}

std::pair<Context, CancelFunc> WithDeadline(const Context& parent, absl::Time d) {
  return WithDeadlineCause(parent, d, absl::OkStatus());
}

std::pair<Context, CancelFunc> WithDeadlineCause(const Context& parent, absl::Time d,
                                                 absl::Status cause) {
  if (std::optional<absl::Time> cur = parent.Deadline(); cur && *cur < d) {
    // The parent's deadline comes first: it will cancel us in time.
    return WithCancel(parent);
  }
  auto c = internal::New<internal::TimerCtx>(parent, d);
  c->Propagate(c);
  const absl::Duration in = d - Now();
  if (in <= absl::ZeroDuration()) {
    c->Cancel(true, internal::DeadlineExceededStatus(), cause);  // already past
    CancelFunc cancel = [c] { c->Cancel(false, internal::CanceledStatus(), absl::OkStatus()); };
    return {Context(std::move(c)), std::move(cancel)};
  }
  c->Arm(c, in, std::move(cause));
  CancelFunc cancel = [c] { c->Cancel(true, internal::CanceledStatus(), absl::OkStatus()); };
  return {Context(std::move(c)), std::move(cancel)};
}

std::pair<Context, CancelFunc> WithTimeout(const Context& parent, absl::Duration timeout) {
  return WithDeadlineCause(parent, Now() + timeout, absl::OkStatus());
}

std::pair<Context, CancelFunc> WithTimeoutCause(const Context& parent, absl::Duration timeout,
                                                absl::Status cause) {
  return WithDeadlineCause(parent, Now() + timeout, std::move(cause));
}

Context WithoutCancel(const Context& parent) {
  return Context(internal::New<internal::WithoutCancelCtx>(parent));
}

absl::Status Cause(const Context& c) {
  if (const internal::CancelCtx* cc = internal::NearestCancelCtx(c)) {
    absl::Status cause = cc->CauseOrOk();
    if (!cause.ok()) return cause;
    // Not cancelled, or cancelled by a user-written context wrapping cc:
    // then its own Err() is the answer (Go 1.21+).
  }
  return c.Err();
}

std::function<bool()> AfterFunc(const Context& c, std::function<void()> f) {
  auto a = internal::New<internal::AfterFuncCtx>(c, std::move(f));
  a->Propagate(a);
  return [a] { return a->Stop(); };
}

}  // namespace go::context
