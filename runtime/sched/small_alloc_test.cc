// Tests of the small-object allocator (small_alloc.h): every size class on
// every path (a P's cache, the central lists, plain threads), reuse instead
// of growth, P retirement, and a seeded stress in which objects are freed on
// other Ps and threads than the ones that allocated them, with every object
// stamped so that one handed out twice is caught.
#include "runtime/sched/small_alloc.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/sched/sched_internal.h"
#include "runtime/testing/scale.h"

namespace go::sched {
namespace {

// Runs fn on a goroutine and waits for it from the test's thread.
template <typename F>
void OnGoroutine(F fn) {
  std::atomic<bool> done{false};
  Go([&] {
    fn();
    done.store(true);
  });
  while (!done.load()) std::this_thread::yield();
}

void CheckEverySize() {
  for (size_t size = 0; size <= kSmallAllocMax + 64; size++) {
    void* p = SmallAlloc(size);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kSmallAllocAlign, 0u) << "size " << size;
    memset(p, 0xAB, size);
    SmallFree(p, size);
  }
  SmallFree(nullptr, 16);  // a no-op, like free(nullptr)
}

TEST(SmallAllocTest, EverySizeIsAlignedAndWritableOnAGoroutine) {
  OnGoroutine([] { CheckEverySize(); });
}

TEST(SmallAllocTest, EverySizeIsAlignedAndWritableOnAPlainThread) {
  std::thread([] { CheckEverySize(); }).join();
}

TEST(SmallAllocTest, AFreedObjectIsReusedFirst) {
  if (SmallAllocUsesHeap()) GTEST_SKIP() << "sanitizer build: operator new underneath";
  OnGoroutine([] {
    void* a = SmallAlloc(100);
    SmallFree(a, 100);
    EXPECT_EQ(SmallAlloc(112), a) << "100 and 112 bytes share a class; the P's cache is LIFO";
    SmallFree(a, 112);
  });
  std::thread([] {
    void* a = SmallAlloc(40);
    SmallFree(a, 40);
    EXPECT_EQ(SmallAlloc(40), a) << "the central list is LIFO too";
    SmallFree(a, 40);
  }).join();
}

TEST(SmallAllocTest, LiveObjectsNeverOverlap) {
  OnGoroutine([] {
    std::vector<std::pair<char*, size_t>> live;
    std::mt19937_64 rng(7);
    for (int i = 0; i < 5000; i++) {
      const size_t size = 1 + rng() % kSmallAllocMax;
      live.push_back({static_cast<char*>(SmallAlloc(size)), size});
    }
    std::sort(live.begin(), live.end());
    for (size_t i = 1; i < live.size(); i++) {
      ASSERT_LE(live[i - 1].first + live[i - 1].second, live[i].first) << "objects overlap";
    }
    for (auto [p, size] : live) SmallFree(p, size);
  });
}

TEST(SmallAllocTest, RepeatedRoundsReuseInsteadOfGrowing) {
  if (SmallAllocUsesHeap()) GTEST_SKIP() << "sanitizer build: operator new underneath";
  constexpr int kObjects = 20000;  // many batches through the central lists
  auto round = [] {
    OnGoroutine([] {
      std::vector<void*> v(kObjects);
      for (void*& p : v) p = SmallAlloc(144);
      for (void* p : v) SmallFree(p, 144);
    });
  };
  round();
  const SmallAllocStats before = GetSmallAllocStats();
  for (int i = 0; i < 10; i++) round();
  const SmallAllocStats after = GetSmallAllocStats();
  // Objects parked in another P's cache are out of reach (at most two
  // batches per P); everything else must be found again.
  const int64_t cached = int64_t{2} * kSmallBatch * GOMAXPROCS(0);
  EXPECT_LE(after.carved - before.carved, cached);
  EXPECT_GT(before.arena_bytes, 0u);
}

TEST(SmallAllocTest, RetiredPsGiveTheirCachesBack) {
  if (SmallAllocUsesHeap()) GTEST_SKIP() << "sanitizer build: operator new underneath";
  constexpr size_t kSize = 272;
  const int old = GOMAXPROCS(4);
  // Take every free object of the class that this P and the central lists
  // hold (earlier tests left some), so that only the churn's objects are
  // free below: allocate until a fresh batch is carved, then that batch.
  std::vector<void*> held;
  OnGoroutine([&] {
    const int64_t start = GetSmallAllocStats().carved;
    while (GetSmallAllocStats().carved == start) held.push_back(SmallAlloc(kSize));
    for (int i = 1; i < kSmallBatch; i++) held.push_back(SmallAlloc(kSize));
  });
  // Fill every P's cache: goroutines yield until they have been seen on all
  // four Ps, then each allocates and frees on the P it is on.
  constexpr int kG = 64, kEach = 2 * kSmallBatch - 1;  // just below a spill
  const int64_t start = GetSmallAllocStats().carved;
  {
    std::atomic<int> done{0}, seen_mask{0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (int g = 0; g < kG; g++) {
      Go([&] {
        while (seen_mask.load() != 0xF && std::chrono::steady_clock::now() < deadline) {
          seen_mask.fetch_or(1 << CurrentP());
          Gosched();
        }
        void* v[kEach];
        for (void*& p : v) p = SmallAlloc(kSize);
        for (void* p : v) SmallFree(p, kSize);
        done.fetch_add(1);
      });
    }
    while (done.load() < kG) std::this_thread::yield();
    EXPECT_EQ(seen_mask.load(), 0xF) << "the goroutines never ran on all four Ps";
  }
  const int64_t churned = GetSmallAllocStats().carved - start;  // all free again
  GOMAXPROCS(1);
  // Idle Ps die at once; a P that an M still holds retires when that M next
  // looks for work.
  for (int i = 1; i < 4; i++) {
    while (sched().allp[i]->status.load() != PStatus::kDead) std::this_thread::yield();
  }
  // One P now: every object the churn carved must be reachable from it.
  OnGoroutine([&] {
    const int64_t before = GetSmallAllocStats().carved;
    int64_t reused = 0;
    for (;;) {
      held.push_back(SmallAlloc(kSize));
      if (GetSmallAllocStats().carved != before) break;
      reused++;
    }
    EXPECT_GE(reused, churned) << "objects cached by retired Ps were lost";
  });
  for (void* p : held) SmallFree(p, kSize);
  GOMAXPROCS(old);
}

// Objects cross Ps and threads: allocated on one, freed on another. Every
// live object carries its owner's stamp in every word; a double hand-out
// shows up as a foreign stamp.
TEST(SmallAllocTest, StressAcrossPsAndThreads) {
  const uint64_t seed = std::random_device{}();
  printf("SmallAllocTest seed %llu\n", static_cast<unsigned long long>(seed));
  const int old = GOMAXPROCS(4);
  constexpr int kWorkers = 8, kThreads = 2;
  const int kOps = 20000 / testutil::kScale;
  // A shared exchange: workers swap objects through it, so that whoever
  // frees an object is usually not whoever allocated it.
  constexpr int kSlots = 256;
  std::unique_ptr<std::atomic<uint64_t*>[]> slot_ptr(new std::atomic<uint64_t*>[kSlots]);
  std::unique_ptr<std::atomic<size_t>[]> slot_size(new std::atomic<size_t>[kSlots]);
  std::unique_ptr<std::atomic<uint64_t>[]> slot_tag(new std::atomic<uint64_t>[kSlots]);
  std::unique_ptr<std::atomic<bool>[]> slot_busy(new std::atomic<bool>[kSlots]);
  for (int i = 0; i < kSlots; i++) {
    slot_ptr[i] = nullptr;
    slot_busy[i] = false;
  }
  std::atomic<int> corrupt{0}, done{0};
  auto stamp = [](uint64_t* p, size_t size, uint64_t v) {
    for (size_t i = 0; i < size / 8; i++) p[i] = v;
  };
  auto check = [&](uint64_t* p, size_t size, uint64_t v) {
    for (size_t i = 0; i < size / 8; i++) {
      if (p[i] != v) {
        corrupt.fetch_add(1);
        return;
      }
    }
  };
  auto work = [&](int id) {
    std::mt19937_64 rng(seed + static_cast<uint64_t>(id));
    for (int op = 0; op < kOps; op++) {
      const size_t size = 8 * (1 + rng() % (kSmallAllocMax / 8));
      auto* p = static_cast<uint64_t*>(SmallAlloc(size));
      const uint64_t tag = (static_cast<uint64_t>(id) << 32) | static_cast<uint64_t>(op);
      stamp(p, size, tag);
      const int s = static_cast<int>(rng() % kSlots);
      bool expected = false;
      if (!slot_busy[s].compare_exchange_strong(expected, true)) {
        check(p, size, tag);
        SmallFree(p, size);
        continue;
      }
      uint64_t* q = slot_ptr[s].load();
      const size_t qsize = slot_size[s].load();
      const uint64_t qtag = slot_tag[s].load();
      slot_ptr[s].store(p);
      slot_size[s].store(size);
      slot_tag[s].store(tag);
      slot_busy[s].store(false);
      if (q != nullptr) {
        check(q, qsize, qtag);
        SmallFree(q, qsize);
      }
      if (op % 64 == 0) Gosched();
    }
    done.fetch_add(1);
  };
  for (int w = 0; w < kWorkers; w++) Go([&, w] { work(w); });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) threads.emplace_back([&, t] { work(kWorkers + t); });
  for (auto& t : threads) t.join();
  while (done.load() < kWorkers + kThreads) std::this_thread::yield();
  for (int i = 0; i < kSlots; i++) {
    if (uint64_t* q = slot_ptr[i].load()) {
      check(q, slot_size[i].load(), slot_tag[i].load());
      SmallFree(q, slot_size[i].load());
    }
  }
  EXPECT_EQ(corrupt.load(), 0) << "an object was handed out twice (seed " << seed << ")";
  GOMAXPROCS(old);
}

TEST(SmallAllocTest, HugePagesFollowTheEnvironment) {
  const SmallAllocStats s = GetSmallAllocStats();
  const char* e = getenv("GO_HUGEPAGES");
  if (e != nullptr && strcmp(e, "0") == 0) {
    EXPECT_FALSE(s.huge_pages) << "GO_HUGEPAGES=0 must select the populated arenas";
  }
  printf("arenas: %s, %zu bytes\n", s.huge_pages ? "huge pages" : "populated 64 KiB at a time",
         s.arena_bytes);
}

TEST(SmallAllocTest, WorksAsAnAllocatorForSharedPtr) {
  struct Node {
    int64_t a[10];
  };
  OnGoroutine([] {
    auto p = std::allocate_shared<Node>(SmallAllocator<Node>());
    p->a[9] = 42;
    std::shared_ptr<Node> q = p;
    p.reset();
    EXPECT_EQ(q->a[9], 42);
  });
}

}  // namespace
}  // namespace go::sched
