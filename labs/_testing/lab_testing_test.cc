// Tests of the lab test helpers: bounded waits, temporary trees.
#include "labs/_testing/lab_testing.h"

#include <sys/stat.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/go.h"

namespace lab_testing {
namespace {

TEST(CallTest, WaitReportsReturnAndOrdersItsWrites) {
  int value = 0;  // plain int: Wait()'s acquire must order the write (TSan checks)
  Call call([&] { value = 42; });
  ASSERT_TRUE(call.Wait(Scaled(absl::Seconds(10))));
  EXPECT_TRUE(call.Done());
  EXPECT_EQ(value, 42);
}

TEST(CallTest, WaitGivesUpOnABlockedFunctionAndTheTestCanUnblockIt) {
  std::atomic<bool> release{false};
  Call call([&] {
    while (!release.load()) go::Sleep(absl::Milliseconds(1));
  });
  EXPECT_FALSE(call.Wait(absl::Milliseconds(20)));
  release.store(true);
  EXPECT_TRUE(call.Wait(Scaled(absl::Seconds(10))));
}

TEST(GoroutinesTest, WaitForGoroutinesSeesThemExit) {
  const int before = go::NumGoroutine();
  // Shared ownership: a goroutine's exit is no happens-before edge, so the flag must not live
  // on this test's stack, which the next test reuses.
  auto release = std::make_shared<std::atomic<bool>>(false);
  go::Go([release] {
    while (!release->load()) go::Sleep(absl::Milliseconds(1));
  });
  EXPECT_GT(WaitForGoroutinesAtMost(before, absl::Milliseconds(20)), before);
  release->store(true);
  EXPECT_LE(WaitForGoroutinesAtMost(before, Scaled(absl::Seconds(10))), before);
}

TEST(DirProbeTest, CountsReadsInProgressAndKeepsErrno) {
  TempTree t;
  t.MakeDir("d");
  t.MakeFile("d/a");
  DirProbe probe(absl::Milliseconds(1));
  EXPECT_EQ(Names(t.Path("d")), (std::vector<std::string>{"a"}));
  EXPECT_EQ(probe.MaxInProgress(), 1);
  EXPECT_EQ(probe.Reads(), 4);  // ".", "..", "a", end
}

TEST(TempTreeTest, BuildsFilesDirsAndSymlinks) {
  std::string root;
  {
    TempTree t;
    root = t.Root();
    t.MakeDir("d");
    t.MakeFile("d/f", 123);
    t.MakeSymlink("link", "d");
    EXPECT_EQ(Names(t.Root()), (std::vector<std::string>{"d", "link"}));
    EXPECT_EQ(Names(t.Path("d")), (std::vector<std::string>{"f"}));
    struct stat st;
    ASSERT_EQ(::lstat(t.Path("d/f").c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 123);
    ASSERT_EQ(::lstat(t.Path("link").c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    t.Chmod("d", 0);  // removal must still work
  }
  struct stat st;
  EXPECT_NE(::lstat(root.c_str(), &st), 0) << root << " was not removed";
}

}  // namespace
}  // namespace lab_testing
