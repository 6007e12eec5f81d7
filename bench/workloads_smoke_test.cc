// Smoke test of the benchmark workloads: every workload this checkout can run, at quick sizes
// (about 1/100 of the record's), must compute the right answer (its own checks: the skynet sum,
// the mutex count, ...). It never looks at the numbers: speed is measured by `./course bench`,
// beside Go, never by tests.
#include "bench/workloads.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace bench {
namespace {

class WorkloadSmokeTest : public testing::TestWithParam<std::string> {};

TEST_P(WorkloadSmokeTest, ComputesTheRightAnswerAtQuickSize) {
  const Workload* w = FindWorkload(GetParam());
  ASSERT_NE(w, nullptr);
  if (!w->unavailable.empty()) GTEST_SKIP() << w->name << ": " << w->unavailable;
  const Outcome out = RunInGoroutine(*w, Sizes{.quick = true});
  EXPECT_EQ(out.error, "");
  ASSERT_EQ(out.measurements.size(), w->measures.size());
  for (size_t i = 0; i < w->measures.size(); i++) {
    EXPECT_EQ(out.measurements[i].name, w->measures[i]);
    EXPECT_GE(out.measurements[i].value, 0) << w->measures[i];
  }
}

std::vector<std::string> Names() {
  std::vector<std::string> names;
  for (const Workload& w : AllWorkloads()) names.push_back(w.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(All, WorkloadSmokeTest, testing::ValuesIn(Names()),
                         [](const testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(WorkloadCatalogTest, NamesAreUnique) {
  std::set<std::string> seen;
  for (const Workload& w : AllWorkloads()) {
    EXPECT_TRUE(seen.insert(w.name).second) << w.name;
    for (const std::string& m : w.measures) {
      if (m != w.name) {
        EXPECT_TRUE(seen.insert(m).second) << m;
      }
    }
  }
}

}  // namespace
}  // namespace bench
