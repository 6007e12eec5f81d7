// Stress tests for runtime/context and runtime/errgroup: a million
// short-lived children under one parent, random trees cancelled from many
// goroutines at once, deadline storms, AfterFunc/stop races, errgroups with
// random limits. Each randomized test prints its seed; rerun one with
// CONTEXT_STRESS_SEED=<seed>.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/context/context_testing.h"
#include "runtime/go.h"
#include "runtime/sched/small_alloc.h"

namespace go::context {
namespace {

using context_testing::Eventually;
using context_testing::IsDone;
using context_testing::Joiner;
using context_testing::kScale;
using context_testing::LeakCheck;
using context_testing::ProcsScope;

// Under sanitizers every goroutine and every timer callback gets its own
// ThreadSanitizer fiber (costly to create), so timer- and goroutine-heavy
// tests shrink further than kScale.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kHeavyScale = 50;
#else
constexpr int kHeavyScale = 1;
#endif

uint64_t Seed() {
  static const uint64_t seed = [] {
    if (const char* s = std::getenv("CONTEXT_STRESS_SEED")) {
      return static_cast<uint64_t>(std::strtoull(s, nullptr, 10));
    }
    return static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  }();
  return seed;
}

class Seeded : public ::testing::Test {
 protected:
  void SetUp() override {
    std::printf("seed %llu (rerun with CONTEXT_STRESS_SEED=%llu)\n",
                static_cast<unsigned long long>(Seed()), static_cast<unsigned long long>(Seed()));
  }
};

TEST(ContextStressTest, MillionShortLivedChildrenKeepTheParentFlat) {
  LeakCheck leaks;
  ProcsScope procs(4);
  auto [parent, cancel] = WithCancel(Background());
  static const Key<int> k("k");
  Context valued = WithValue(parent, k, 1);
  const int64_t live = internal::LiveCancelCtxForTest();
  const int64_t carved = sched::GetSmallAllocStats().carved;
  const int total = 1000000 / kScale;
  const int workers = 4;
  Joiner j;
  for (int w = 0; w < workers; w++) {
    j.Go([&, w] {
      for (int i = 0; i < total / workers; i++) {
        // A mix: plain children, children through a value layer, deadlines
        // and AfterFuncs, all cancelled (or stopped) right away.
        switch ((i + w) % 4) {
          case 0: {
            auto [c, f] = WithCancel(parent);
            f();
            break;
          }
          case 1: {
            auto [c, f] = WithCancel(valued);
            auto [gc, g] = WithCancel(c);
            f();
            g();
            break;
          }
          case 2: {
            auto [c, f] = WithTimeout(parent, absl::Hours(1));
            f();
            break;
          }
          case 3: {
            auto stop = AfterFunc(parent, [] { ADD_FAILURE() << "stopped AfterFunc ran"; });
            EXPECT_TRUE(stop());
            break;
          }
        }
        if (i % 1000 == 0) Gosched();
      }
    });
  }
  j.Wait();
  EXPECT_EQ(internal::NumChildrenForTest(parent), 0u);
  EXPECT_EQ(internal::LiveCancelCtxForTest(), live) << "every child was freed";
  // And their memory was reused: the allocator cut at most a few batches per
  // P and context type, not one slot per child (no growth at all under the
  // sanitizers, where contexts come from operator new).
  EXPECT_LT(sched::GetSmallAllocStats().carved - carved, 4096);
  EXPECT_FALSE(IsDone(parent));
  cancel();
}

// A random tree whose nodes are created, cancelled and given deadlines and
// AfterFuncs by several goroutines at once, while the root is cancelled.
TEST_F(Seeded, RandomTreesCancelledFromEverywhere) {
  LeakCheck leaks;
  const int64_t live_before = internal::LiveCancelCtxForTest();
  std::mt19937_64 seeds(Seed());
  for (int round = 0; round < 20 / kScale + 2; round++) {
    ProcsScope procs(1 + static_cast<int>(seeds() % 4));
    auto [root, cancel_root] = WithCancelCause(Background());
    std::mutex mu;  // guards the shared node list (a plain mutex: short sections)
    std::vector<std::pair<Context, CancelFunc>> nodes{{root, [] {}}};
    std::atomic<int> after_ran{0}, after_stopped{0}, after_made{0};
    Joiner j;
    const int workers = 4;
    for (int w = 0; w < workers; w++) {
      j.Go([&, w, rng_seed = seeds()] {
        std::mt19937_64 rng(rng_seed);
        for (int op = 0; op < 300; op++) {
          Context pick;
          CancelFunc pick_cancel;
          {
            std::lock_guard<std::mutex> l(mu);
            auto& n = nodes[rng() % nodes.size()];
            pick = n.first;
            pick_cancel = n.second;
          }
          switch (rng() % 6) {
            case 0:
            case 1: {
              auto [c, f] = WithCancel(pick);
              std::lock_guard<std::mutex> l(mu);
              nodes.emplace_back(c, f);
              break;
            }
            case 2: {
              auto [c, f] = WithTimeout(pick, absl::Microseconds(rng() % 2000));
              std::lock_guard<std::mutex> l(mu);
              nodes.emplace_back(c, f);
              break;
            }
            case 3:
              pick_cancel();
              break;
            case 4: {
              after_made++;
              auto stop = AfterFunc(pick, [&] { after_ran++; });
              if (rng() % 2 == 0 && stop()) after_stopped++;
              break;
            }
            case 5: {
              auto [c, f] = WithCancel(WithoutCancel(pick));
              f();
              break;
            }
          }
          if (op == 150 && w == 0) cancel_root(absl::AbortedError("round over"));
        }
      });
    }
    j.Wait();
    cancel_root(absl::OkStatus());
    for (auto& [c, f] : nodes) {
      EXPECT_TRUE(IsDone(c)) << "every descendant of a cancelled root is done";
      absl::Status err = c.Err();
      EXPECT_TRUE(err == Canceled() || err == DeadlineExceeded()) << err;
    }
    // Each AfterFunc either ran once or was stopped: never both, never lost.
    EXPECT_TRUE(Eventually([&] { return after_ran + after_stopped == after_made; }))
        << "ran=" << after_ran << " stopped=" << after_stopped << " made=" << after_made;
    for (auto& [c, f] : nodes) f();
    EXPECT_EQ(internal::NumChildrenForTest(root), 0u);
  }
  EXPECT_TRUE(Eventually([&] { return internal::LiveCancelCtxForTest() == live_before; }))
      << "contexts leaked: " << internal::LiveCancelCtxForTest() - live_before;
}

TEST_F(Seeded, DeadlineStorm) {
  LeakCheck leaks;  // includes: no deadline timer left armed
  ProcsScope procs(4);
  std::mt19937_64 rng(Seed());
  auto [parent, cancel] = WithCancel(Background());
  std::vector<std::pair<Context, CancelFunc>> all;
  const int n = 20000 / kHeavyScale;
  for (int i = 0; i < n; i++) {
    auto [c, f] = WithTimeout(parent, absl::Microseconds(rng() % 5000));
    if (rng() % 3 == 0) f();  // some are cancelled before they expire
    all.emplace_back(c, f);
  }
  for (auto& [c, f] : all) EXPECT_TRUE(context_testing::WaitDone(c, absl::Seconds(60)));
  int expired = 0;
  for (auto& [c, f] : all) expired += c.Err() == DeadlineExceeded();
  EXPECT_GT(expired, 0);
  for (auto& [c, f] : all) f();
  EXPECT_TRUE(Eventually([&] { return internal::NumChildrenForTest(parent) == 0; }));
  cancel();
}

TEST_F(Seeded, WaitersOnEveryLeafOfAWideTree) {
  // The benchmark's shape (10 children per node, 4 levels, a goroutine on
  // each leaf's Done), cancelled from a goroutine and from the test thread.
  LeakCheck leaks;
  for (bool from_goroutine : {false, true}) {
    auto [root, cancel_root] = WithCancel(Background());
    std::vector<Context> leaves;
    std::vector<CancelFunc> cancels;
    std::function<void(const Context&, int)> build = [&](const Context& p, int depth) {
      if (depth == 0) {
        leaves.push_back(p);
        return;
      }
      for (int i = 0; i < 10; i++) {
        auto [c, f] = WithCancel(p);
        cancels.push_back(f);
        build(c, depth - 1);
      }
    };
    build(root, kHeavyScale == 1 ? 4 : 2);
    sync::WaitGroup woke;
    woke.Add(static_cast<int>(leaves.size()));
    for (const Context& leaf : leaves) {
      Go([&woke, d = leaf.Done()] {
        d.Recv();
        woke.Done();
      });
    }
    if (from_goroutine) {
      Go([cancel_root = cancel_root] { cancel_root(); });
    } else {
      cancel_root();
    }
    woke.Wait();
    for (auto& f : cancels) f();
  }
}

TEST_F(Seeded, ErrgroupsWithRandomLimitsAndFailures) {
  LeakCheck leaks;
  std::mt19937_64 rng(Seed());
  for (int round = 0; round < 100 / kScale + 5; round++) {
    auto [g, ctx] = errgroup::WithContext(Background());
    int limit = static_cast<int>(rng() % 5);  // 1 .. 4, or 0 meaning none
    if (limit == 0) limit = -1;
    g->SetLimit(limit);
    const int tasks = 50;
    const int fail_at = static_cast<int>(rng() % (tasks + 10));  // may be "never"
    std::atomic<int> running{0}, peak{0};
    for (int i = 0; i < tasks; i++) {
      g->Go([&, i, ctx = ctx]() -> absl::Status {
        int now = ++running;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        Gosched();
        running--;
        if (i == fail_at) return absl::InternalError(absl::StrCat("task ", i));
        return ctx.Err().ok() ? absl::OkStatus() : absl::CancelledError("saw cancel");
      });
    }
    absl::Status st = g->Wait();
    if (limit > 0) {
      EXPECT_LE(peak.load(), limit);
    }
    if (fail_at < tasks) {
      EXPECT_FALSE(st.ok());
      EXPECT_EQ(Cause(ctx), st);
    } else {
      EXPECT_TRUE(st.ok()) << st;
      EXPECT_EQ(Cause(ctx), Canceled());
    }
    EXPECT_TRUE(IsDone(ctx));
  }
}

}  // namespace
}  // namespace go::context
