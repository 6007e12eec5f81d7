// User-written contexts as parents: cancellation propagates the way Go does
// for foreign contexts (link to a wrapped context of ours, else the parent's
// AfterFunc, else a watcher goroutine), and values and causes flow through.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "runtime/context/context.h"
#include "runtime/context/context_testing.h"
#include "runtime/go.h"

namespace go::context {
namespace {

using context_testing::Eventually;
using context_testing::IsDone;
using context_testing::LeakCheck;
using context_testing::RunEverywhere;
using context_testing::WaitDone;

const Key<std::string> kTenant("tenant");

// A context written from scratch: its own Done channel, error and value.
class Foreign : public Interface {
 public:
  std::optional<absl::Time> Deadline() const override { return std::nullopt; }
  RecvChan<std::monostate> Done() const override { return done_; }
  absl::Status Err() const override {
    std::lock_guard<std::mutex> l(mu_);
    return err_;
  }
  const void* Value(const KeyBase& key) const override {
    return &key == &kTenant ? &tenant_ : nullptr;
  }
  void Cancel(absl::Status err) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!err_.ok()) return;
      err_ = std::move(err);
    }
    done_.Close();
  }

 private:
  mutable std::mutex mu_;
  absl::Status err_;
  Chan<std::monostate> done_ = MakeChan<std::monostate>();
  std::string tenant_ = "acme";
};

// A foreign context that offers AfterFunc (Go's afterFuncer).
class ForeignWithAfterFunc : public Foreign {
 public:
  std::function<bool()> AfterFunc(std::function<void()> f) const override {
    std::lock_guard<std::mutex> l(mu_);
    const int id = next_++;
    fns_[id] = std::move(f);
    registered_++;
    return [this, id] {
      std::lock_guard<std::mutex> l(mu_);
      return fns_.erase(id) == 1;
    };
  }
  void CancelAndRun(absl::Status err) {
    Cancel(std::move(err));
    std::map<int, std::function<void()>> fns;
    {
      std::lock_guard<std::mutex> l(mu_);
      fns.swap(fns_);
    }
    for (auto& [id, f] : fns) go::Go(std::move(f));
  }
  size_t Pending() const {
    std::lock_guard<std::mutex> l(mu_);
    return fns_.size();
  }
  int registered() const { return registered_.load(); }

 private:
  mutable std::mutex mu_;
  mutable int next_ = 0;
  mutable std::map<int, std::function<void()>> fns_;
  mutable std::atomic<int> registered_{0};
};

// Wraps one of our contexts and forwards everything (Go: a struct embedding
// a Context and overriding nothing that matters).
class Wrapper : public Interface {
 public:
  explicit Wrapper(Context inner) : inner_(std::move(inner)) {}
  std::optional<absl::Time> Deadline() const override { return inner_.Deadline(); }
  RecvChan<std::monostate> Done() const override { return inner_.Done(); }
  absl::Status Err() const override { return inner_.Err(); }
  const void* Value(const KeyBase& key) const override {
    return inner_.Value(key);
  }

 private:
  Context inner_;
};

// Wraps one of ours but substitutes its own Done channel: the child must not
// bypass it by linking to the inner context.
class OwnDoneWrapper : public Wrapper {
 public:
  using Wrapper::Wrapper;
  RecvChan<std::monostate> Done() const override { return own_done_; }
  Chan<std::monostate> own_done_ = MakeChan<std::monostate>();
};

TEST(CustomParentTest, ForeignParentCancelsChildThroughAWatcher) {
  RunEverywhere([] {
    auto f = std::make_shared<Foreign>();
    Context parent(f);
    const int64_t watchers = internal::PropagationGoroutinesForTest();
    auto [child, cancel] = WithCancel(parent);
    EXPECT_EQ(internal::PropagationGoroutinesForTest(), watchers + 1);
    EXPECT_EQ(*child.Value(kTenant), "acme") << "values flow through";
    EXPECT_FALSE(IsDone(child));
    f->Cancel(absl::CancelledError("foreign stop"));
    ASSERT_TRUE(WaitDone(child));
    EXPECT_EQ(child.Err(), absl::CancelledError("foreign stop")) << "the parent's Err()";
    EXPECT_EQ(Cause(child), absl::CancelledError("foreign stop"));
    cancel();
  });
}

TEST(CustomParentTest, CancellingTheChildEndsItsWatcher) {
  LeakCheck leaks;  // the watcher goroutine must exit
  auto f = std::make_shared<Foreign>();
  std::vector<CancelFunc> cancels;
  for (int i = 0; i < 50; i++) cancels.push_back(WithCancel(Context(f)).second);
  for (auto& c : cancels) c();
  EXPECT_FALSE(IsDone(Context(f)));
}

TEST(CustomParentTest, AlreadyCancelledForeignParent) {
  auto f = std::make_shared<Foreign>();
  f->Cancel(absl::DeadlineExceededError("context deadline exceeded"));
  const int64_t watchers = internal::PropagationGoroutinesForTest();
  auto [child, cancel] = WithCancel(Context(f));
  EXPECT_TRUE(IsDone(child));
  EXPECT_EQ(child.Err(), DeadlineExceeded());
  EXPECT_EQ(internal::PropagationGoroutinesForTest(), watchers) << "no watcher needed";
  cancel();
}

TEST(CustomParentTest, ForeignAfterFuncIsUsedInsteadOfAGoroutine) {
  RunEverywhere([] {
    auto f = std::make_shared<ForeignWithAfterFunc>();
    const int64_t watchers = internal::PropagationGoroutinesForTest();
    auto [a, cancel_a] = WithCancel(Context(f));
    auto [b, cancel_b] = WithCancelCause(Context(f));
    EXPECT_EQ(internal::PropagationGoroutinesForTest(), watchers);
    EXPECT_EQ(f->registered(), 2);
    EXPECT_EQ(f->Pending(), 2u);
    cancel_a();  // unregisters (Go's stopCtx)
    EXPECT_EQ(f->Pending(), 1u);
    f->CancelAndRun(absl::AbortedError("parent gone"));
    ASSERT_TRUE(WaitDone(b));
    EXPECT_EQ(b.Err(), absl::AbortedError("parent gone"));
    EXPECT_EQ(a.Err(), Canceled());
    cancel_b(absl::OkStatus());
  });
}

TEST(CustomParentTest, AfterFuncOnAForeignContext) {
  LeakCheck leaks;
  auto f = std::make_shared<ForeignWithAfterFunc>();
  auto ran = MakeChan<bool>(1);
  auto stop = AfterFunc(Context(f), [ran] { ran.Send(true); });
  auto stopped = AfterFunc(Context(f), [] { ADD_FAILURE() << "stopped"; });
  EXPECT_TRUE(stopped());
  EXPECT_EQ(f->Pending(), 1u);
  f->CancelAndRun(absl::CancelledError("x"));
  EXPECT_EQ(ran.Recv(), true);
  EXPECT_FALSE(stop());
}

TEST(CustomParentTest, WrapperOfOursLinksDirectly) {
  RunEverywhere([] {
    auto [inner, cancel_inner] = WithCancelCause(Background());
    Context wrapped(std::make_shared<Wrapper>(inner));
    const int64_t watchers = internal::PropagationGoroutinesForTest();
    auto [child, cancel] = WithCancel(wrapped);
    EXPECT_EQ(internal::PropagationGoroutinesForTest(), watchers) << "no watcher";
    EXPECT_EQ(internal::NumChildrenForTest(inner), 1u) << "linked under the wrapped context";
    cancel_inner(absl::UnavailableError("down"));
    EXPECT_TRUE(IsDone(child)) << "synchronously, like a direct child";
    EXPECT_EQ(Cause(child), absl::UnavailableError("down"));
    EXPECT_EQ(Cause(wrapped), absl::UnavailableError("down")) << "Cause sees through wrappers";
    cancel();
  });
}

TEST(CustomParentTest, WrapperWithItsOwnDoneIsNotBypassed) {
  LeakCheck leaks;
  auto [inner, cancel_inner] = WithCancel(Background());
  auto w = std::make_shared<OwnDoneWrapper>(inner);
  (void)inner.Done();  // exists, but is not the wrapper's Done channel
  const int64_t watchers = internal::PropagationGoroutinesForTest();
  auto [child, cancel] = WithCancel(Context(w));
  EXPECT_EQ(internal::PropagationGoroutinesForTest(), watchers + 1);
  EXPECT_EQ(internal::NumChildrenForTest(inner), 0u);
  cancel_inner();
  w->own_done_.Close();  // the wrapper's own notion of "done"
  ASSERT_TRUE(WaitDone(child));
  EXPECT_EQ(child.Err(), Canceled());
  cancel();
}

TEST(CustomParentTest, OurContextsUnderAForeignOneFormATree) {
  RunEverywhere([] {
    const int64_t timers = internal::ArmedTimersForTest();
    auto f = std::make_shared<ForeignWithAfterFunc>();
    auto [mid, cancel_mid] = WithCancel(Context(f));
    std::vector<CancelFunc> cancels;
    std::vector<Context> leaves;
    for (int i = 0; i < 20; i++) {
      auto [leaf, c] = WithTimeout(mid, absl::Hours(1));
      leaves.push_back(leaf);
      cancels.push_back(c);
    }
    f->CancelAndRun(absl::CancelledError("context canceled"));
    for (const Context& l : leaves) EXPECT_TRUE(WaitDone(l));
    EXPECT_TRUE(Eventually([&] { return internal::ArmedTimersForTest() == timers; }));
    for (auto& c : cancels) c();
    cancel_mid();
  });
}

}  // namespace
}  // namespace go::context
