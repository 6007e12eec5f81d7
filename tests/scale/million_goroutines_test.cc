// Scale: a million goroutines alive at once on a stock kernel
// (vm.max_map_count = 65530), with stacks allocated lazily from guarded
// mappings within a budget and canary-checked chunks beyond it.
#include <atomic>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/stack.h"

namespace go {
namespace {

std::atomic<int> g_parked{0};

struct Slot {
  std::atomic<sched::G*> g{nullptr};
};

// GO_SCALE_GOROUTINES sets the count (default: a million).
int Count() {
  const char* e = getenv("GO_SCALE_GOROUTINES");
  return e ? atoi(e) : 1000000;
}

TEST(ScaleTest, ParkedGoroutinesBeyondTheMapLimit) {
  const int kN = Count();
  printf("goroutines: %d\n", kN);
  g_parked.store(0);  // --gtest_repeat runs this body again in one process
  auto slots = std::make_unique<Slot[]>(kN);
  std::atomic<int> done{0};
  Go([&] {
    for (int i = 0; i < kN; i++) {
      Slot* s = &slots[i];
      Go([s, &done] {
        sched::Park(
            [](sched::G* self, void* arg) {
              static_cast<Slot*>(arg)->g.store(self);
              g_parked.fetch_add(1);
              return true;
            },
            s, sched::WaitReason::kChanReceive);
        done.fetch_add(1);
      });
    }
  });
  // Wait until every goroutine has parked.
  while (g_parked.load() < kN) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(NumGoroutine(), kN);
  sched::StackStats st = sched::GetStackStats();
  printf("stacks mapped: %zu, guarded: %zu (budget %zu)\n", st.mapped_stacks, st.guarded_stacks,
         st.guard_budget);
  EXPECT_LE(st.guarded_stacks, st.guard_budget);
  EXPECT_GE(st.mapped_stacks, static_cast<size_t>(kN));
  // More stacks than the kernel would allow mappings for: the chunked,
  // canary-checked tier is what makes this work.
  if (kN > 70000) {
    EXPECT_GT(st.mapped_stacks, 65530u);
  }
  for (int i = 0; i < kN; i++) sched::Ready(slots[i].g.exchange(nullptr));
  while (done.load() < kN) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace
}  // namespace go
