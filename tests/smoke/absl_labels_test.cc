// Checks that every abseil target the project uses exists under its upstream label, builds as
// C++20, and that its public headers compile cleanly under the project's -Werror flags
// (GO_TEST_COPTS): Bazel 4.2.3 does not pass external headers as system headers, so a warning
// flag abseil's headers trip would break every project target that includes them.

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/debugging/symbolize.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, smoke_seed, 1, "a flag for AbslLabelsTest.FlagsParseTheCommandLine");

namespace {

TEST(AbslLabelsTest, AnyInvocableHoldsMoveOnlyCallables) {
  auto owned = std::make_unique<int>(41);
  absl::AnyInvocable<int() &&> f = [p = std::move(owned)] { return *p + 1; };
  EXPECT_EQ(std::move(f)(), 42);
}

int ApplyTwice(absl::FunctionRef<int(int)> fn, int x) { return fn(fn(x)); }

TEST(AbslLabelsTest, FunctionRefCallsWithoutOwning) {
  EXPECT_EQ(ApplyTwice([](int v) { return v * 3; }, 2), 18);
}

TEST(AbslLabelsTest, CleanupRunsAtScopeExit) {
  int runs = 0;
  {
    absl::Cleanup c = [&runs] { ++runs; };
    EXPECT_EQ(runs, 0);
  }
  EXPECT_EQ(runs, 1);
}

TEST(AbslLabelsTest, FlagsParseTheCommandLine) {
  char arg0[] = "absl_labels_test";
  char arg1[] = "--smoke_seed=7";
  char* argv[] = {arg0, arg1};
  absl::ParseCommandLine(2, argv);
  EXPECT_EQ(absl::GetFlag(FLAGS_smoke_seed), 7);
}

TEST(AbslLabelsTest, RandomDrawsInRange) {
  absl::BitGen gen;
  for (int i = 0; i < 100; ++i) {
    int v = absl::Uniform(gen, 0, 10);
    EXPECT_GE(v, 0);
    EXPECT_LT(v, 10);
  }
}

TEST(AbslLabelsTest, SymbolizeLinks) {
  // Without InitializeSymbolizer(argv[0]) the result may be false; this checks the label
  // links, not the symbolizer.
  char buf[256];
  (void)absl::Symbolize(reinterpret_cast<void*>(&ApplyTwice), buf, sizeof buf);
}

struct Options {
  int seed = 0;
  int workers = 4;
};

class Tally {
 public:
  void Add(const std::string& key) {
    absl::MutexLock lock(&mu_);
    ++counts_[key];
  }
  std::optional<int> Get(const std::string& key) {
    absl::MutexLock lock(&mu_);
    auto it = counts_.find(key);
    if (it == counts_.end()) return std::nullopt;
    return it->second;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
};

TEST(AbslLabelsTest, ProjectIdiomsCompileUnderWerror) {
  Options o{.seed = 42};  // designated initializer leaving `workers` to its default
  EXPECT_EQ(o.workers, 4);
  Tally t;
  t.Add(absl::StrCat("seed", o.seed));
  EXPECT_EQ(t.Get("seed42"), 1);
  absl::StatusOr<std::string> s = absl::StrFormat("%s", absl::FormatDuration(absl::Seconds(2)));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "2s");
}

}  // namespace
