// Public tests of lab _template (what students run while they work):
//
//   bazel test //labs/_template:public_test
//   bazel test --config=tsan //labs/_template:public_test
//
// A lab's public tests are a small visible subset of the graded behaviour; the hidden tests
// (grading/_template/hidden_test.cc) check more.
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "labs/_template/template.h"
#include "runtime/go.h"

namespace lab::template_lab {
namespace {

TEST(ParallelSumTest, SumsASmallVector) {
  absl::StatusOr<int64_t> sum = ParallelSum(go::context::Background(), {1, 2, 3, 4, 5}, 2);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(*sum, 15);
}

TEST(ParallelSumTest, RejectsZeroWorkers) {
  EXPECT_EQ(ParallelSum(go::context::Background(), {1}, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lab::template_lab
