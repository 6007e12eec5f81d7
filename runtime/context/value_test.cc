// WithValue (typed keys, shadowing, identity) and WithoutCancel.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "runtime/context/context.h"
#include "runtime/context/context_testing.h"
#include "runtime/go.h"

namespace go::context {
namespace {

using context_testing::IsDone;
using context_testing::Joiner;
using context_testing::RunEverywhere;

const Key<int> kUser("user");
const Key<std::string> kRequestId("request-id");
const Key<int> kOtherUser("user");  // same name, different key

TEST(ValueTest, TypedKeysFindTheirValues) {
  Context c = WithValue(WithValue(Background(), kUser, 7), kRequestId, std::string("r-1"));
  ASSERT_NE(c.Value(kUser), nullptr);
  EXPECT_EQ(*c.Value(kUser), 7);
  ASSERT_NE(c.Value(kRequestId), nullptr);
  EXPECT_EQ(*c.Value(kRequestId), "r-1");
  EXPECT_EQ(c.Value(kOtherUser), nullptr) << "keys are identities, not names";
  EXPECT_EQ(kOtherUser.Name(), kUser.Name());
}

TEST(ValueTest, ValueTypeComesFromTheKey) {
  Context c = WithValue(Background(), kRequestId, "literal");  // const char* -> std::string
  EXPECT_EQ(*c.Value(kRequestId), "literal");
  static const Key<int64_t> kBig("big");
  c = WithValue(c, kBig, 1);  // int -> int64_t
  EXPECT_EQ(*c.Value(kBig), 1);
}

TEST(ValueTest, InnerValueShadowsOuter) {
  Context outer = WithValue(Background(), kUser, 1);
  Context inner = WithValue(outer, kUser, 2);
  EXPECT_EQ(*inner.Value(kUser), 2);
  EXPECT_EQ(*outer.Value(kUser), 1);
}

TEST(ValueTest, ValuesFlowThroughCancelAndDeadlineContexts) {
  Context v = WithValue(Background(), kUser, 9);
  auto [c, cancel] = WithCancel(v);
  auto [d, cancel_d] = WithTimeout(c, absl::Hours(1));
  Context w = WithoutCancel(d);
  EXPECT_EQ(*c.Value(kUser), 9);
  EXPECT_EQ(*d.Value(kUser), 9);
  EXPECT_EQ(*w.Value(kUser), 9);
  cancel();
  EXPECT_EQ(*d.Value(kUser), 9) << "values survive cancellation";
  cancel_d();
}

TEST(ValueTest, ValueContextDelegatesEverythingElse) {
  auto [c, cancel] = WithCancel(Background());
  Context v = WithValue(c, kUser, 1);
  EXPECT_TRUE(v.Done() == c.Done());
  EXPECT_FALSE(v.Deadline().has_value());
  cancel();
  EXPECT_EQ(v.Err(), Canceled());
  EXPECT_TRUE(IsDone(v));
}

TEST(ValueTest, MoveOnlyAndLargeValues) {
  static const Key<std::unique_ptr<int>> kPtr("ptr");
  static const Key<std::vector<int>> kVec("vec");
  Context c = WithValue(Background(), kPtr, std::make_unique<int>(5));
  c = WithValue(c, kVec, std::vector<int>(1000, 3));
  EXPECT_EQ(**c.Value(kPtr), 5);
  EXPECT_EQ(c.Value(kVec)->size(), 1000u);
}

TEST(ValueTest, ValueOutlivesTheHandleItCameFrom) {
  const int* p;
  Context keep;
  {
    Context c = WithValue(Background(), kUser, 11);
    keep = c;
    p = c.Value(kUser);
  }
  EXPECT_EQ(*p, 11);  // valid while any handle on the context lives
  EXPECT_EQ(keep.Value(kUser), p);
}

TEST(ValueTest, ConcurrentReadersSeeTheValue) {
  RunEverywhere([] {
    Context c = WithValue(Background(), kRequestId, std::string("shared"));
    Joiner j;
    for (int i = 0; i < 16; i++) {
      j.Go([c] {
        for (int k = 0; k < 100; k++) EXPECT_EQ(*c.Value(kRequestId), "shared");
      });
    }
    j.Wait();
  });
}

TEST(ValueTest, DeepValueChainIsFreedWithoutRecursion) {
  Context c;
  for (int i = 0; i < 50000; i++) c = WithValue(c, kUser, i);
  EXPECT_EQ(*c.Value(kUser), 49999);
  c = Context();  // frees 50,000 nested contexts
}

TEST(WithoutCancelTest, IsNotCancelledWithItsParent) {
  RunEverywhere([] {
    auto [parent, cancel] = WithCancelCause(WithValue(Background(), kUser, 3));
    auto [dl, cancel_dl] = WithTimeout(parent, absl::Hours(1));
    Context w = WithoutCancel(dl);
    EXPECT_FALSE(w.Done()) << "a nil channel: it can never be cancelled";
    EXPECT_FALSE(w.Deadline().has_value());
    cancel(absl::AbortedError("stop"));
    EXPECT_TRUE(IsDone(dl));
    EXPECT_TRUE(w.Err().ok());
    EXPECT_TRUE(Cause(w).ok()) << "Cause must not find the parent's cancellation";
    EXPECT_EQ(*w.Value(kUser), 3);
    cancel_dl();
  });
}

TEST(WithoutCancelTest, ChildrenOfItAreIndependentRoots) {
  auto [parent, cancel] = WithCancel(Background());
  Context w = WithoutCancel(parent);
  auto [child, cancel_child] = WithCancel(w);
  EXPECT_EQ(internal::NumChildrenForTest(parent), 0u) << "nothing to link to";
  cancel();
  EXPECT_FALSE(IsDone(child));
  cancel_child();
  EXPECT_TRUE(IsDone(child));
  EXPECT_EQ(child.Err(), Canceled());
}

}  // namespace
}  // namespace go::context
