// Links every third-party dependency the project uses and calls one thing from each, so a
// broken dependency shows up as one obvious failure here rather than deep inside the runtime.
//
// Covers: GoogleTest (TEST, EXPECT_*), GoogleMock (matchers, MOCK_METHOD), abseil (Status,
// StatusOr, Time/Duration, StrFormat, StrCat, Mutex) and Google Benchmark (registering and
// running a benchmark in-process).

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Return;

absl::StatusOr<int> ParsePositive(int v) {
  if (v <= 0) return absl::InvalidArgumentError(absl::StrFormat("not positive: %d", v));
  return v;
}

TEST(DepsSmokeTest, AbseilStatusCarriesCodeAndMessage) {
  absl::Status s = absl::CancelledError("context canceled");
  EXPECT_TRUE(absl::IsCancelled(s));
  EXPECT_EQ(s.message(), "context canceled");

  absl::StatusOr<int> ok = ParsePositive(3);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  absl::StatusOr<int> bad = ParsePositive(-1);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("not positive: -1"));
}

TEST(DepsSmokeTest, AbseilTimeAndFormatting) {
  absl::Duration d = absl::Milliseconds(1500);
  EXPECT_EQ(absl::FormatDuration(d), "1.5s");
  EXPECT_EQ(absl::StrFormat("%s=%.1f", "x", 2.5), "x=2.5");
  EXPECT_EQ(absl::StrCat("go", 1, ".", 22), "go1.22");

  absl::Time start = absl::Now();
  absl::SleepFor(absl::Milliseconds(1));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(1));
}

TEST(DepsSmokeTest, AbseilMutexGuardsAField) {
  absl::Mutex mu;
  int guarded = 0;
  {
    absl::MutexLock lock(&mu);
    ++guarded;
  }
  EXPECT_EQ(guarded, 1);
}

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int Now() const = 0;
};

class MockClock : public Clock {
 public:
  MOCK_METHOD(int, Now, (), (const, override));
};

TEST(DepsSmokeTest, GoogleMockStubsAVirtual) {
  MockClock clock;
  EXPECT_CALL(clock, Now()).WillOnce(Return(7));
  const Clock& c = clock;
  EXPECT_EQ(c.Now(), 7);
  EXPECT_THAT(std::vector<int>({1, 2}), ElementsAre(1, 2));
}

void BM_StrCat(benchmark::State& state) {
  for (auto _ : state) {
    std::string s = absl::StrCat("a", state.iterations());
    benchmark::DoNotOptimize(s);
  }
}

// Counts the runs a benchmark reporter sees, without printing anything.
class CountingReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override { count_ += static_cast<int>(runs.size()); }
  int count() const { return count_; }

 private:
  int count_ = 0;
};

TEST(DepsSmokeTest, GoogleBenchmarkRunsInProcess) {
  benchmark::RegisterBenchmark("BM_StrCat", BM_StrCat)->Iterations(10);
  CountingReporter reporter;
  size_t ran = benchmark::RunSpecifiedBenchmarks(&reporter);
  EXPECT_EQ(ran, 1u);
  EXPECT_EQ(reporter.count(), 1);
  benchmark::ClearRegisteredBenchmarks();
}

}  // namespace
