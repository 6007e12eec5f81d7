#include "runtime/testing/leakcheck.h"

#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "runtime/debug/debug.h"
#include "runtime/synctest/synctest.h"

namespace go::testing {
namespace {

absl::Duration DefaultLimit() {
  if (const char* e = getenv("GO_LEAKCHECK_MS")) return absl::Milliseconds(atol(e));
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  return absl::Seconds(4);
#else
  return absl::Seconds(1);
#endif
}

// This process's command line for a replay hint, without the flags the hint
// sets itself (--gtest_filter names the one failing test; a --gtest_repeat
// would rerun it needlessly), each argument shell-quoted when it needs it.
std::string CommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out;
  size_t start = 0;
  while (start < raw.size()) {
    size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    const std::string arg = raw.substr(start, end - start);
    start = end + 1;
    if (arg.rfind("--gtest_filter=", 0) == 0 || arg.rfind("--gtest_repeat=", 0) == 0) continue;
    if (!out.empty()) out += ' ';
    if (!arg.empty() && arg.find_first_of(" \t'\"\\$`*?[]{}()<>|&;!#~") == std::string::npos) {
      out += arg;
    } else {
      out += '\'';
      for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

}  // namespace

LeakCheckListener::LeakCheckListener(absl::Duration limit) : limit_(limit) {}

std::set<int64_t> LeakCheckListener::LiveGoroutineIds() {
  std::set<int64_t> ids;
  for (const auto& g : debug::Snapshot()) {
    if (!g.is_thread) ids.insert(g.id);
  }
  return ids;
}

std::string LeakCheckListener::LeakedSince(const std::set<int64_t>& before, absl::Duration limit) {
  const absl::Time deadline = absl::Now() + limit;
  for (;;) {
    std::string report;
    for (const auto& g : debug::Snapshot()) {
      if (g.is_thread || before.count(g.id)) continue;
      absl::StrAppendFormat(&report, "goroutine %d [%s%s]:\n", g.id, g.state,
                            g.waiting >= absl::Minutes(1)
                                ? absl::StrFormat(", %d minutes", absl::ToInt64Minutes(g.waiting))
                                : "");
      if (!g.blocked_at.empty()) absl::StrAppendFormat(&report, "\tblocked at %s\n", g.blocked_at);
      absl::StrAppendFormat(&report, "created by goroutine %d at %s\n\n", g.created_by, g.created_at);
    }
    if (report.empty() || absl::Now() >= deadline) return report;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void LeakCheckListener::OnTestStart(const ::testing::TestInfo&) {
  before_ = LiveGoroutineIds();
  bubbles_before_ = synctest::BubblesStarted();
}

void LeakCheckListener::OnTestEnd(const ::testing::TestInfo& info) {
  std::string leaked = LeakedSince(before_, limit_);
  if (!leaked.empty()) {
    ADD_FAILURE() << "goroutine leak: goroutines started by " << info.test_suite_name() << "."
                  << info.name() << " are still running " << absl::FormatDuration(limit_)
                  << " after it returned:\n\n"
                  << leaked;
  }
  if (info.result()->Failed() && synctest::BubblesStarted() != bubbles_before_) {
    const uint64_t seed = synctest::LastSeed();
    fprintf(stderr,
            "synctest: this test ran a bubble with seed %llu; replay it with:\n"
            "  GO_SYNCTEST_SEED=%llu %s --gtest_filter=%s.%s\n",
            static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed),
            CommandLine().c_str(), info.test_suite_name(), info.name());
  }
}

void InstallGoTestListeners() {
  ::testing::UnitTest::GetInstance()->listeners().Append(new LeakCheckListener(DefaultLimit()));
}

}  // namespace go::testing
