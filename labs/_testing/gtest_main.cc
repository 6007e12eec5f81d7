// gtest main for lab tests: runs the tests, then fails the binary if any test left goroutines
// running ("know how every goroutine stops": a goroutine nobody can stop is a bug the lab
// tests report, even when every assertion passed).
//
// How: a listener notes go::NumGoroutine() when each test starts; when it ends, the listener
// waits up to lab_testing::LeakCheckWait() for the count to come back down, since goroutines
// that were told to stop may need a moment to exit. If it does not, it prints
//
//   LEAKED GOROUTINES: <Suite.Test> left <n> goroutine(s) running (<before> before the test, ...)
//
// and the binary exits with status 1 even if every assertion passed. (A gtest listener cannot
// mark a finished test failed, hence the exit status.) The grader runs one test per process and
// looks for the "LEAKED GOROUTINES" line to report "leaked goroutine" (grading/gradelib).
//
// Rejected: a fixture base class with a TearDown check. It would mark the right test failed,
// but every TEST would have to be a TEST_F of that fixture, and one forgotten _F silently
// disables the check.
#include <cstdio>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "labs/_testing/lab_testing.h"
#include "runtime/go.h"

namespace {

class LeakCheck : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo&) override { before_ = go::NumGoroutine(); }

  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result()->Skipped()) return;
    const absl::Duration wait = lab_testing::LeakCheckWait();
    const int after = lab_testing::WaitForGoroutinesAtMost(before_, wait);
    if (after <= before_) return;
    leaked_ = true;
    std::printf(
        "LEAKED GOROUTINES: %s.%s left %d goroutine(s) running (%d before the test, %d still "
        "there %s after it returned). Every goroutine a function starts must stop: when its "
        "work is done, or when its context is done.\n",
        info.test_suite_name(), info.name(), after - before_, before_, after,
        absl::FormatDuration(wait).c_str());
    std::fflush(stdout);
  }

  bool leaked() const { return leaked_; }

 private:
  int before_ = 0;
  bool leaked_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto* leak_check = new LeakCheck;  // owned by gtest's listener list
  ::testing::UnitTest::GetInstance()->listeners().Append(leak_check);
  int rc = RUN_ALL_TESTS();
  if (rc == 0 && leak_check->leaked()) rc = 1;
  return rc;
}
