// Tests for go::atomic: each operation's result, the three Value<T>
// representations, concurrent use from goroutines and threads, and the
// message-passing edge (a Store observed by a Load publishes plain data).
#include "runtime/atomic/atomic.h"

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/testing/scale.h"

namespace go::atomic {
namespace {

using ::go::testutil::kScale;  // runtime/testing/scale.h

// Runs fn(i) on n goroutines and waits (spinning politely) for all of them.
template <typename F>
void RunGoroutines(int n, F fn) {
  std::atomic<int> done{0};
  for (int i = 0; i < n; i++) {
    Go([&done, &fn, i] {
      fn(i);
      done.fetch_add(1);
    });
  }
  while (done.load() < n) std::this_thread::yield();
}

TEST(AtomicTest, IntegerOperationsReturnGoResults) {
  Int32 i;
  EXPECT_EQ(i.Load(), 0);
  EXPECT_EQ(i.Add(5), 5);  // Add returns the new value
  EXPECT_EQ(i.Add(-7), -2);
  EXPECT_EQ(i.Swap(10), -2);  // Swap returns the old value
  EXPECT_FALSE(i.CompareAndSwap(3, 4));
  EXPECT_EQ(i.Load(), 10);
  EXPECT_TRUE(i.CompareAndSwap(10, 11));
  EXPECT_EQ(i.Load(), 11);
  EXPECT_EQ(i.And(0b1010), 11);
  EXPECT_EQ(i.Or(0b0101), 0b1010);
  EXPECT_EQ(i.Load(), 0b1111);

  Uint32 u;
  EXPECT_EQ(u.Add(static_cast<uint32_t>(-1)), 0xffffffffu);  // wraps like Go
  Uint64 u64{1};
  EXPECT_EQ(u64.Add(~uint64_t{0}), 0u);
  Int64 i64;
  i64.Store(int64_t{1} << 40);
  EXPECT_EQ(i64.Add(1), (int64_t{1} << 40) + 1);
}

TEST(AtomicTest, BoolAndPointer) {
  Bool b;
  EXPECT_FALSE(b.Load());
  EXPECT_FALSE(b.Swap(true));
  EXPECT_TRUE(b.CompareAndSwap(true, false));
  EXPECT_FALSE(b.CompareAndSwap(true, false));

  int x = 1, y = 2;
  Pointer<int> p;
  EXPECT_EQ(p.Load(), nullptr);
  p.Store(&x);
  EXPECT_EQ(p.Swap(&y), &x);
  EXPECT_FALSE(p.CompareAndSwap(&x, nullptr));
  EXPECT_TRUE(p.CompareAndSwap(&y, &x));
  EXPECT_EQ(*p.Load(), 1);
}

struct Big {
  int64_t a, b, c, d;
  bool operator==(const Big&) const = default;
};
struct Padded {  // 1 + 7 padding + 8: not representable by a byte compare
  char c;
  int64_t v;
  bool operator==(const Padded& o) const { return c == o.c && v == o.v; }
};

template <typename T>
void CheckValueOps(T zero, T a, T b) {
  Value<T> v;
  EXPECT_TRUE(v.Load() == zero);
  v.Store(a);
  EXPECT_TRUE(v.Load() == a);
  EXPECT_TRUE(v.Swap(b) == a);
  EXPECT_FALSE(v.CompareAndSwap(a, a));
  EXPECT_TRUE(v.CompareAndSwap(b, a));
  EXPECT_TRUE(v.Load() == a);
}

TEST(AtomicTest, ValueWorksInEveryRepresentation) {
  CheckValueOps<int>(0, 1, 2);                                // lock-free
  CheckValueOps<Big>({}, {1, 2, 3, 4}, {5, 6, 7, 8});        // seqlock
  CheckValueOps<Padded>({}, {'a', 1}, {'b', 2});             // seqlock, == not bytes
  CheckValueOps<double>(0.0, 1.5, -2.5);                     // seqlock, float ==
  CheckValueOps<std::string>("", std::string(100, 'x'), "y");  // locked
  Value<std::string> s{"init"};
  EXPECT_EQ(s.Load(), "init");
}

TEST(AtomicTest, ValueCompareAndSwapUsesEqualityNotBytes) {
  Value<double> v{0.0};
  EXPECT_TRUE(v.CompareAndSwap(-0.0, 1.0));  // -0.0 == 0.0 in Go and C++
  Value<double> nan{std::nan("")};
  EXPECT_FALSE(nan.CompareAndSwap(nan.Load(), 1.0));  // NaN != NaN
}

TEST(AtomicTest, ConcurrentAddsAreNotLost) {
  for (int procs : {1, 2, 4, 8}) {
    int old = GOMAXPROCS(procs);
    Int64 n;
    Uint32 m;
    const int kPer = 20000 / kScale;
    RunGoroutines(8, [&](int) {
      for (int i = 0; i < kPer; i++) {
        n.Add(1);
        m.Add(2);
      }
    });
    // Plain threads too.
    std::vector<std::thread> ts;
    for (int t = 0; t < 2; t++) {
      ts.emplace_back([&] {
        for (int i = 0; i < kPer; i++) n.Add(1);
      });
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(n.Load(), 10 * kPer) << "GOMAXPROCS=" << procs;
    EXPECT_EQ(m.Load(), 16u * kPer);
    GOMAXPROCS(old);
  }
}

TEST(AtomicTest, ValueNeverTears) {
  int old = GOMAXPROCS(4);
  Value<Big> big;
  Value<std::string> str{std::string(64, 'a')};
  Bool stop;
  std::atomic<int> torn{0};
  const int kWrites = 20000 / kScale;
  std::atomic<int> done{0};
  for (int r = 0; r < 3; r++) {
    Go([&] {
      while (!stop.Load()) {
        Big b = big.Load();
        if (!(b.a == b.b && b.b == b.c && b.c == b.d)) torn++;
        std::string s = str.Load();
        if (s.find_first_not_of(s[0]) != std::string::npos) torn++;
        Gosched();
      }
      done++;
    });
  }
  std::thread writer([&] {
    for (int64_t i = 1; i <= kWrites; i++) {
      big.Store({i, i, i, i});
      str.Store(std::string(64 + i % 7, static_cast<char>('a' + i % 26)));
    }
    stop.Store(true);
  });
  writer.join();
  while (done.load() < 3) std::this_thread::yield();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(big.Load().a, kWrites);
  GOMAXPROCS(old);
}

// Memory model: a Store observed by a Load publishes what came before it.
// Under ThreadSanitizer the plain `data` accesses would be reported if the
// edge were missing.
TEST(AtomicTest, StoreObservedByLoadPublishesPlainData) {
  int old = GOMAXPROCS(2);
  for (int round = 0; round < 50; round++) {
    int data = 0;
    std::string text;
    Bool ready;
    Pointer<std::string> ptr;
    Value<Big> value;
    RunGoroutines(2, [&](int i) {
      if (i == 0) {
        data = 42;
        text = "hello";
        ready.Store(true);
        auto* s = new std::string("owned");
        ptr.Store(s);
        value.Store({1, 1, 1, 1});
      } else {
        while (!ready.Load()) Gosched();
        EXPECT_EQ(data, 42);
        EXPECT_EQ(text, "hello");
        std::string* s;
        while ((s = ptr.Load()) == nullptr) Gosched();
        EXPECT_EQ(*s, "owned");
        delete s;
        while (value.Load().a == 0) Gosched();
      }
    });
  }
  GOMAXPROCS(old);
}

}  // namespace
}  // namespace go::atomic
