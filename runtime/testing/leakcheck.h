// GoogleTest integration: goroutine leak checks and synctest replay hints.
//
// One line in a test main (or link //runtime/testing:gtest_main instead of
// @com_google_googletest//:gtest_main):
//
//   go::testing::InstallGoTestListeners();
//
// After each test, the leak check waits up to a second (longer under the
// sanitizers; GO_LEAKCHECK_MS overrides) for goroutines the test started to
// exit, as goleak does, and otherwise fails the test listing the leaked
// goroutines' dump entries (state, wait reason, where blocked, where created).
// When a test that ran a synctest bubble fails, it prints the bubble's seed
// and the command that replays it.
#ifndef GO_RUNTIME_TESTING_LEAKCHECK_H_
#define GO_RUNTIME_TESTING_LEAKCHECK_H_

#include <set>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace go::testing {

class LeakCheckListener : public ::testing::EmptyTestEventListener {
 public:
  explicit LeakCheckListener(absl::Duration limit);
  void OnTestStart(const ::testing::TestInfo& info) override;
  void OnTestEnd(const ::testing::TestInfo& info) override;

  // Waits up to `limit` for every goroutine not in `before` to exit; returns
  // the dump entries of those still alive ("" when none).
  static std::string LeakedSince(const std::set<int64_t>& before, absl::Duration limit);
  static std::set<int64_t> LiveGoroutineIds();

 private:
  absl::Duration limit_;
  std::set<int64_t> before_;
  uint64_t bubbles_before_ = 0;
};

// Installs the leak check and the seed reporter on the default listeners.
void InstallGoTestListeners();

}  // namespace go::testing

#endif  // GO_RUNTIME_TESTING_LEAKCHECK_H_
