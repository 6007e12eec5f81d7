// Tests for sync::Map: Go's semantics for each method (also through the
// promote / expunge / un-expunge transitions), a randomized comparison with
// a plain map, concurrent Load/Store/Delete/Range from goroutines and
// threads at several GOMAXPROCS, the Store -> Load edge for plain data, and
// Range callbacks that use the map.
#include "runtime/sync/map.h"

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/sync/internal/sync_testing.h"

namespace go::sync {
namespace {

using testing::kProcs;
using testing::kScale;
using testing::LeakCheck;
using testing::ProcsGuard;
using testing::RunGoroutines;

TEST(MapTest, MethodsFollowGoSemantics) {
  Map<std::string, int> m;
  EXPECT_EQ(m.Load("a"), std::nullopt);
  m.Store("a", 1);
  EXPECT_EQ(m.Load("a"), 1);
  m.Store("a", 2);  // overwrite
  EXPECT_EQ(m.Load("a"), 2);
  EXPECT_EQ(m.LoadOrStore("a", 9), std::make_pair(2, true));
  EXPECT_EQ(m.LoadOrStore("b", 3), std::make_pair(3, false));
  EXPECT_EQ(m.LoadAndDelete("a"), 2);
  EXPECT_EQ(m.LoadAndDelete("a"), std::nullopt);
  EXPECT_EQ(m.Load("a"), std::nullopt);
  m.Delete("b");
  m.Delete("never");
  EXPECT_EQ(m.Load("b"), std::nullopt);
  EXPECT_EQ(m.Swap("c", 5), std::nullopt);
  EXPECT_EQ(m.Swap("c", 6), 5);
  int n = 0;
  m.Range([&](const std::string& k, const int& v) {
    EXPECT_EQ(k, "c");
    EXPECT_EQ(v, 6);
    n++;
    return true;
  });
  EXPECT_EQ(n, 1);
}

// Drives one key through Go's internal transitions: new key in dirty_,
// promoted by misses, deleted (null), expunged when the next dirty_ is
// built, un-expunged by a Store.
TEST(MapTest, KeysSurvivePromotionExpungeAndUnexpunge) {
  Map<int, std::string> m;
  m.Store(1, "one");
  m.Store(2, "two");
  for (int i = 0; i < 4; i++) EXPECT_EQ(m.Load(1), "one");  // misses promote dirty_
  m.Delete(1);                 // null in the snapshot
  m.Store(3, "three");         // builds dirty_: key 1 is expunged
  EXPECT_EQ(m.Load(1), std::nullopt);
  m.Store(1, "uno");           // un-expunge
  EXPECT_EQ(m.Load(1), "uno");
  EXPECT_EQ(m.LoadOrStore(2, "dos"), std::make_pair(std::string("two"), true));
  for (int i = 0; i < 8; i++) EXPECT_EQ(m.Load(3), "three");
  m.Delete(2);
  m.Store(4, "four");  // expunges 2
  EXPECT_EQ(m.LoadOrStore(2, "dos"), std::make_pair(std::string("dos"), false));
  std::map<int, std::string> seen;
  m.Range([&](const int& k, const std::string& v) {
    seen[k] = v;
    return true;
  });
  EXPECT_EQ(seen, (std::map<int, std::string>{{1, "uno"}, {2, "dos"}, {3, "three"}, {4, "four"}}));
}

TEST(MapTest, RangeStopsWhenFReturnsFalseAndFMayUseTheMap) {
  Map<int, int> m;
  for (int i = 0; i < 100; i++) m.Store(i, i);
  int calls = 0;
  m.Range([&](const int& k, const int&) {
    m.Delete(k);           // f may call the Map: Range works on a copy
    m.Store(k + 1000, k);
    return ++calls < 10;
  });
  EXPECT_EQ(calls, 10);
  int left = 0;
  m.Range([&](const int&, const int&) { return ++left, true; });
  EXPECT_EQ(left, 100);  // 90 untouched + 10 moved
}

// Random operations, checked against std::map (Go's map_reference_test).
TEST(MapTest, MatchesAPlainMapOnRandomOperations) {
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::printf("MapTest random seed: %" PRIu64 "\n", seed);
  std::mt19937_64 rng(seed);
  Map<int, int> m;
  std::map<int, int> ref;
  for (int i = 0; i < 20000 / kScale; i++) {
    const int k = static_cast<int>(rng() % 64);
    const int v = static_cast<int>(rng() % 1000);
    switch (rng() % 6) {
      case 0:
        ASSERT_EQ(m.Load(k), ref.count(k) ? std::optional<int>(ref[k]) : std::nullopt);
        break;
      case 1:
        m.Store(k, v);
        ref[k] = v;
        break;
      case 2: {
        auto [got, loaded] = m.LoadOrStore(k, v);
        ASSERT_EQ(loaded, ref.count(k) == 1);
        if (!loaded) ref[k] = v;
        ASSERT_EQ(got, ref[k]);
        break;
      }
      case 3: {
        auto prev = m.LoadAndDelete(k);
        ASSERT_EQ(prev, ref.count(k) ? std::optional<int>(ref[k]) : std::nullopt);
        ref.erase(k);
        break;
      }
      case 4:
        m.Delete(k);
        ref.erase(k);
        break;
      case 5: {
        std::map<int, int> seen;
        m.Range([&](const int& key, const int& val) {
          seen[key] = val;
          return true;
        });
        ASSERT_EQ(seen, ref);
        break;
      }
    }
  }
}

// Writers own disjoint keys; readers hammer a read-mostly set; Range runs
// alongside. Values are strings built from the key, so a torn or stale-freed
// value would show. Goroutines and plain threads, GOMAXPROCS 1..8.
TEST(MapTest, ConcurrentLoadStoreDeleteRangeAtEveryProcCount) {
  LeakCheck leaks;
  for (int procs : kProcs) {
    ProcsGuard p(procs);
    Map<int, std::string> m;
    constexpr int kHot = 16;
    for (int k = 0; k < kHot; k++) m.Store(k, "hot" + std::to_string(k));
    std::atomic<int> bad{0};
    const int kIters = 3000 / kScale;
    auto check = [&](int k, const std::string& v) {
      if (k < kHot) {
        if (v != "hot" + std::to_string(k)) bad++;
      } else if (v.rfind("k" + std::to_string(k) + ":", 0) != 0) {
        bad++;
      }
    };
    auto body = [&](int id) {
      const int base = 1000 * (id + 1);
      for (int i = 0; i < kIters; i++) {
        const int k = base + i % 50;
        switch (i % 5) {
          case 0:
          case 1: {
            auto v = m.Load(i % kHot);
            if (!v) bad++; else check(i % kHot, *v);
            break;
          }
          case 2:
            m.Store(k, "k" + std::to_string(k) + ":" + std::to_string(i));
            break;
          case 3: {
            auto v = m.LoadAndDelete(k);
            if (v) check(k, *v);
            break;
          }
          case 4:
            if (i % 50 == 4) {
              m.Range([&](const int& key, const std::string& val) {
                check(key, val);
                return true;
              });
            } else {
              auto [v, loaded] = m.LoadOrStore(k, "k" + std::to_string(k) + ":los");
              check(k, v);
            }
            break;
        }
        if (i % 64 == 0) Gosched();
      }
    };
    std::thread t([&] { body(100); });
    RunGoroutines(8, body);
    t.join();
    EXPECT_EQ(bad.load(), 0) << "GOMAXPROCS=" << procs;
  }
}

// Memory model: whatever the writer did before Store(k, v) is visible to a
// reader whose Load returns v. The payload is plain data behind a pointer.
TEST(MapTest, StorePublishesPlainDataToTheLoadThatSeesIt) {
  LeakCheck leaks;
  ProcsGuard p(4);
  struct Payload {
    int64_t a = 0, b = 0;
    std::string s;
  };
  Map<int, std::shared_ptr<Payload>> m;
  const int kKeys = 200 / kScale + 10;
  RunGoroutines(4, [&](int id) {
    if (id == 0) {
      for (int k = 0; k < kKeys; k++) {
        auto pl = std::make_shared<Payload>();
        pl->a = k;
        pl->b = 2 * k;
        pl->s = std::to_string(k);
        m.Store(k, pl);
      }
    } else {
      for (int k = 0; k < kKeys; k++) {
        std::optional<std::shared_ptr<Payload>> v;
        while (!(v = m.Load(k))) Gosched();
        EXPECT_EQ((*v)->a, k);
        EXPECT_EQ((*v)->b, 2 * k);
        EXPECT_EQ((*v)->s, std::to_string(k));
      }
    }
  });
}

}  // namespace
}  // namespace go::sync
