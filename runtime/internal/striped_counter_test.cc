#include "runtime/internal/striped_counter.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/go.h"

namespace go::internal {
namespace {

TEST(StripedCounterTest, StartsAtZero) {
  static StripedCounter c;  // constant-initialised: usable from static constructors
  EXPECT_EQ(c.Sum(), 0);
}

TEST(StripedCounterTest, SumsAddsFromManyThreads) {
  StripedCounter c;
  constexpr int kThreads = 8;
  constexpr int kAdds = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&c, t] {
      for (int i = 0; i < kAdds; i++) c.Add(t % 2 == 0 ? 3 : -1);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(c.Sum(), int64_t{kThreads / 2} * kAdds * 3 - int64_t{kThreads / 2} * kAdds);
}

TEST(StripedCounterTest, AddsAndRemovesFromGoroutinesBalance) {
  // The shape of the runtime's uses: +1 when something is created, -1 when it
  // goes, on whatever CPU each side runs.
  StripedCounter c;
  sync::WaitGroup wg;
  constexpr int kGoroutines = 64;
  wg.Add(kGoroutines);
  for (int g = 0; g < kGoroutines; g++) {
    Go([&] {
      for (int i = 0; i < 10000; i++) {
        c.Add(1);
        if (i % 100 == 0) Gosched();
        c.Add(-1);
      }
      wg.Done();
    });
  }
  wg.Wait();
  EXPECT_EQ(c.Sum(), 0);
}

}  // namespace
}  // namespace go::internal
