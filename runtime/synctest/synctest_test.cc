#include "runtime/synctest/synctest.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/panic.h"
#include "runtime/time/sleep.h"
#include "runtime/sched/sched.h"

namespace go {
namespace {

TEST(SynctestTest, ClockStartsAt2000AndSleepIsVirtual) {
  synctest::Test([] {
    EXPECT_EQ(Now(), absl::FromCivil(absl::CivilSecond(2000, 1, 1, 0, 0, 0), absl::UTCTimeZone()));
    absl::Time start = Now();
    Sleep(absl::Hours(1));
    EXPECT_EQ(Now() - start, absl::Hours(1));
  });
}

TEST(SynctestTest, WaitsForAllGoroutinesAndOrdersSleepers) {
  std::vector<int> order;
  std::mutex mu;  // the memory model still applies inside a bubble
  synctest::Test([&] {
    for (int i = 5; i >= 1; i--) {
      Go([&order, &mu, i] {
        Sleep(absl::Seconds(i));
        std::lock_guard<std::mutex> l(mu);
        order.push_back(i);
      });
    }
  });
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST(SynctestTest, WaitReturnsWhenOthersAreBlocked) {
  synctest::Test([] {
    std::atomic<bool> done{false};
    Go([&] {
      Sleep(absl::Minutes(1));
      done = true;
    });
    synctest::Wait();  // the sleeper is now durably blocked
    EXPECT_FALSE(done);
    Sleep(absl::Minutes(2));
    EXPECT_TRUE(done);
  });
}

// A parked goroutine that nothing can wake: sched::Park with no waker.
void BlockForever() {
  sched::Park([](sched::G*, void*) { return true; }, nullptr, sched::WaitReason::kChanReceiveNilChan);
}

TEST(SynctestTest, DeadlockIsReportedWithSeedAndDump) {
  try {
    synctest::Test(synctest::Options{.seed = 42, .policy = std::nullopt}, [] { BlockForever(); });
    FAIL() << "expected a deadlock panic";
  } catch (const Panic& p) {
    std::string msg = p.what();
    EXPECT_NE(msg.find("deadlock: all goroutines in bubble are blocked"), std::string::npos) << msg;
    EXPECT_NE(msg.find("GO_SYNCTEST_SEED=42"), std::string::npos) << msg;
    EXPECT_NE(msg.find("chan receive (nil chan)"), std::string::npos) << msg;
  }
}

TEST(SynctestTest, RootExitedWithBlockedGoroutines) {
  try {
    synctest::Test([] { Go([] { BlockForever(); }); });
    FAIL() << "expected a deadlock panic";
  } catch (const Panic& p) {
    EXPECT_NE(std::string(p.what()).find("main bubble goroutine has exited"), std::string::npos);
  }
}

TEST(SynctestTest, NestedBubblePanics) {
  synctest::Test([] { EXPECT_THROW(synctest::Test([] {}), Panic); });
}

TEST(SynctestTest, WaitOutsideBubblePanics) { EXPECT_THROW(synctest::Wait(), Panic); }

// A lost update: read, yield, write. Only some interleavings lose it. (The
// loads and stores are atomic so that TSan has no data race to report: the
// bug is the non-atomic read-modify-write, which only a schedule exposes.)
bool LostUpdateBody() {
  std::atomic<int> counter{0};
  for (int i = 0; i < 2; i++) {
    Go([&] {
      int v = counter.load();
      Gosched();
      counter.store(v + 1);
    });
  }
  synctest::Wait();
  return counter == 2;
}

std::string Interleaving(uint64_t seed) {
  std::string trace;
  std::mutex mu;
  synctest::Test(synctest::Options{.seed = seed, .policy = std::nullopt}, [&] {
    for (int i = 0; i < 4; i++) {
      Go([&trace, &mu, i] {
        for (int j = 0; j < 3; j++) {
          {
            std::lock_guard<std::mutex> l(mu);
            trace += static_cast<char>('a' + i);
          }
          Gosched();
        }
      });
    }
  });
  return trace;
}

TEST(SynctestTest, SameSeedSameInterleaving) {
  for (uint64_t seed : {1, 2, 3, 99}) EXPECT_EQ(Interleaving(seed), Interleaving(seed));
  // And the seed matters: not every seed gives the same schedule.
  bool differs = false;
  for (uint64_t seed = 2; seed < 20 && !differs; seed++) differs = Interleaving(seed) != Interleaving(1);
  EXPECT_TRUE(differs);
}

TEST(SynctestTest, FindsLostUpdateAndReplaysIt) {
  for (synctest::Policy policy : {synctest::Policy::kRandom, synctest::Policy::kPCT}) {
    std::optional<uint64_t> seed = synctest::FindFailingSeed(&LostUpdateBody, 200, 1, policy);
    ASSERT_TRUE(seed.has_value());
    // Replaying the seed reproduces the failure every time.
    for (int i = 0; i < 3; i++) {
      bool ok = true;
      synctest::Test(synctest::Options{.seed = *seed, .policy = policy}, [&] { ok = LostUpdateBody(); });
      EXPECT_FALSE(ok) << "seed " << *seed;
    }
  }
}

TEST(SynctestTest, LongTimeoutsTakeNoRealTime) {
  auto real_start = std::chrono::steady_clock::now();
  synctest::Test([] {
    for (int i = 0; i < 100; i++) Go([] { Sleep(absl::Hours(24)); });
  });
  // Generous bound (it takes microseconds): 100 days of virtual sleeping.
  EXPECT_LT(std::chrono::steady_clock::now() - real_start, std::chrono::seconds(30));
}

}  // namespace
}  // namespace go
