// TimerHeap on its own: a seeded random walk of Add / Remove / Run checked
// against a plain model (a multiset of pending deadlines), plus periodic
// timers. The heap is 4-ary with the deadline stored beside each entry
// (timer_heap.h), so the walk covers removals from every position and
// re-arming at the root.
#include "runtime/sched/timer_heap.h"

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/testing/scale.h"

namespace go::sched {
namespace {

// Under ThreadSanitizer each callback runs in a TSan fiber of its own that
// has acquired only what the timer's armer released (sched::AddTimer does
// that; this test calls the heap directly), so the log is under a mutex.
struct Fired {
  std::mutex mu;
  std::vector<std::pair<int, int64_t>> log;  // (timer id, its deadline when it ran)
  std::vector<std::pair<int, int64_t>> Take() {
    std::lock_guard<std::mutex> l(mu);
    return std::exchange(log, {});
  }
};

struct TestTimer {
  Timer t;
  int id = 0;
  Fired* fired = nullptr;
};

void Record(void* arg, uint64_t, int64_t) {
  auto* x = static_cast<TestTimer*>(arg);
  std::lock_guard<std::mutex> l(x->fired->mu);
  x->fired->log.push_back({x->id, x->t.when});
}

uint32_t Seed() {
  const uint32_t seed = std::random_device{}();
  printf("timer_heap_test seed %u\n", seed);
  return seed;
}

TEST(TimerHeapTest, RandomWalkMatchesAModel) {
  const uint32_t seed = Seed();
  std::mt19937 rng(seed);
  constexpr int kTimers = 3000;
  Fired fired;
  std::vector<std::unique_ptr<TestTimer>> timers;
  for (int i = 0; i < kTimers; i++) {
    auto x = std::make_unique<TestTimer>();
    x->id = i;
    x->fired = &fired;
    x->t.f = Record;
    x->t.arg = x.get();
    timers.push_back(std::move(x));
  }
  TimerHeap heap;
  std::map<int, int64_t> pending;  // id -> deadline (the model)
  int64_t now = 0;
  // Under TSan every callback runs on a fiber of its own, which costs about a
  // millisecond to make: fewer steps there (kScale).
  const int steps = 60000 / testutil::kScale;
  for (int step = 0; step < steps; step++) {
    const int op = static_cast<int>(rng() % 10);
    TestTimer& x = *timers[rng() % kTimers];
    if (op < 5) {  // arm, if idle (deadlines collide often: ties must work)
      if (pending.count(x.id)) continue;
      x.t.when = now + static_cast<int64_t>(rng() % 500);
      heap.Add(&x.t);
      pending[x.id] = x.t.when;
    } else if (op < 8) {  // stop
      const bool was = heap.Remove(&x.t);
      ASSERT_EQ(was, pending.erase(x.id) == 1) << "seed " << seed << " step " << step;
    } else {  // time passes
      now += static_cast<int64_t>(rng() % 40);
      const int ran = heap.Run(now);
      const auto log = fired.Take();
      ASSERT_EQ(ran, static_cast<int>(log.size()));
      int64_t last = INT64_MIN;
      for (auto [id, when] : log) {
        ASSERT_LE(when, now) << "seed " << seed << ": ran early";
        ASSERT_GE(when, last) << "seed " << seed << ": out of deadline order";
        last = when;
        ASSERT_EQ(pending.count(id), 1u) << "seed " << seed << ": ran a stopped timer";
        ASSERT_EQ(pending[id], when);
        pending.erase(id);
      }
      for (auto [id, when] : pending) {
        ASSERT_GT(when, now) << "seed " << seed << ": timer " << id << " is due and did not run";
      }
    }
    ASSERT_EQ(heap.Size(), pending.size());
    int64_t earliest = TimerHeap::kNever;
    for (auto [id, when] : pending) earliest = std::min(earliest, when);
    ASSERT_EQ(heap.NextWhen(), earliest) << "seed " << seed << " step " << step;
  }
  for (auto [id, when] : pending) EXPECT_TRUE(heap.Remove(&timers[id]->t));
  EXPECT_EQ(heap.Size(), 0u);
  EXPECT_EQ(heap.NextWhen(), TimerHeap::kNever);
}

TEST(TimerHeapTest, PeriodicTimersSkipMissedPeriodsAndStayOrdered) {
  Fired fired;
  TimerHeap heap;
  TestTimer tick, once;
  tick.id = 1;
  tick.fired = &fired;
  tick.t.f = Record;
  tick.t.arg = &tick;
  tick.t.when = 10;
  tick.t.period = 10;
  once.id = 2;
  once.fired = &fired;
  once.t.f = Record;
  once.t.arg = &once;
  once.t.when = 25;
  heap.Add(&tick.t);
  heap.Add(&once.t);
  EXPECT_EQ(heap.Run(9), 0);
  EXPECT_EQ(heap.Run(10), 1);  // tick, re-armed for 20
  EXPECT_EQ(heap.NextWhen(), 20);
  EXPECT_EQ(heap.Run(57), 2);  // tick (once, for the missed 20..50), then once at 25
  const auto log = fired.Take();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[1].first, 1);
  EXPECT_EQ(log[2].first, 2);
  EXPECT_EQ(heap.NextWhen(), 60);  // the next period after 57
  EXPECT_TRUE(heap.Remove(&tick.t));
  EXPECT_FALSE(heap.Remove(&once.t));
  EXPECT_EQ(heap.NextWhen(), TimerHeap::kNever);
}

}  // namespace
}  // namespace go::sched
