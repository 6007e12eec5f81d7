// A drop-in replacement for gtest_main that adds the runtime's goroutine leak
// check and synctest replay hints to every test (see leakcheck.h).
#include "gtest/gtest.h"
#include "runtime/testing/leakcheck.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  go::testing::InstallGoTestListeners();
  return RUN_ALL_TESTS();
}
