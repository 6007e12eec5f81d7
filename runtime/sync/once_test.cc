// Tests for sync::Once, OnceFunc and OnceValue: one call of f however many
// concurrent callers (goroutines and threads), every caller returns after f
// (with f's plain writes visible), and a throwing f.
#include "runtime/sync/once.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/goroutine.h"
#include "runtime/sync/internal/sync_testing.h"
#include "runtime/sync/oncefunc.h"

namespace go::sync {
namespace {

using testing::kProcs;
using testing::LeakCheck;
using testing::ProcsGuard;
using testing::RunGoroutines;
using testing::RunThreads;

TEST(OnceTest, CallsFOnlyOnce) {
  Once once;
  int calls = 0;
  for (int i = 0; i < 3; i++) once.Do([&] { calls++; });
  EXPECT_EQ(calls, 1);
}

// Memory model: f's return happens before every Do returns. `config` is
// plain data; a caller that returned early (the bare-CAS bug) would see it
// half-built, and TSan would report the race.
TEST(OnceTest, EveryConcurrentCallerReturnsAfterFHasFinished) {
  LeakCheck leaks;
  for (int procs : kProcs) {
    ProcsGuard p(procs);
    Once once;
    std::atomic<int> calls{0};
    std::string config;
    auto init = [&] {
      calls++;
      for (int i = 0; i < 10; i++) {
        config += "x";
        Gosched();  // take a while: others pile up in the slow path
      }
    };
    std::atomic<int> bad{0};
    std::thread t([&] {
      once.Do(init);
      if (config.size() != 10) bad++;
    });
    RunGoroutines(16, [&](int) {
      once.Do(init);
      if (config.size() != 10) bad++;
    });
    t.join();
    EXPECT_EQ(calls.load(), 1) << "GOMAXPROCS=" << procs;
    EXPECT_EQ(bad.load(), 0);
  }
}

TEST(OnceTest, ThrowingFCountsAsDoneAndRethrowsToItsCallerOnly) {
  Once once;
  int calls = 0;
  EXPECT_THROW(once.Do([&] {
    calls++;
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  once.Do([&] { calls++; });  // done: not called, no exception
  EXPECT_EQ(calls, 1);
}

TEST(OnceTest, CallersWaitingOnAThrowingFReturnNormally) {
  LeakCheck leaks;
  ProcsGuard p(4);
  Once once;
  std::atomic<int> threw{0}, returned{0}, calls{0};
  RunGoroutines(8, [&](int) {
    try {
      once.Do([&] {
        calls++;
        for (int i = 0; i < 5; i++) Gosched();
        throw std::runtime_error("boom");
      });
      returned++;
    } catch (const std::runtime_error&) {
      threw++;
    }
  });
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(threw.load(), 1);
  EXPECT_EQ(returned.load(), 7);
}

TEST(OnceFuncTest, CallsFOnceFromManyGoroutinesAndThreads) {
  LeakCheck leaks;
  std::atomic<int> calls{0};
  int value = 0;
  auto f = OnceFunc([&] {
    calls++;
    value = 7;
  });
  std::atomic<int> bad{0};
  RunThreads(2, [&](int) {
    f();
    if (value != 7) bad++;
  });
  RunGoroutines(8, [&](int) {
    f();
    if (value != 7) bad++;
  });
  auto copy = f;  // copies share the one call
  copy();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(bad.load(), 0);
}

TEST(OnceFuncTest, ThrowingFRethrowsTheSameExceptionOnEveryCall) {
  int calls = 0;
  auto f = OnceFunc([&] {
    calls++;
    throw std::runtime_error("boom");
  });
  const void* first = nullptr;
  for (int i = 0; i < 3; i++) {
    try {
      f();
      FAIL() << "call " << i << " did not throw";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "boom");
      if (i == 0) first = &e;
      EXPECT_EQ(&e, first) << "not the same exception object";
    }
  }
  EXPECT_EQ(calls, 1);
}

TEST(OnceValueTest, ReturnsTheOneResultEverywhere) {
  LeakCheck leaks;
  std::atomic<int> calls{0};
  auto v = OnceValue<std::string>([&] {
    calls++;
    return std::string("computed");
  });
  std::atomic<int> bad{0};
  RunGoroutines(8, [&](int) {
    if (v() != "computed") bad++;
  });
  EXPECT_EQ(v(), "computed");
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(bad.load(), 0);
}

TEST(OnceValueTest, ThrowingFRethrowsOnEveryCall) {
  int calls = 0;
  auto v = OnceValue<int>([&]() -> int {
    calls++;
    throw std::out_of_range("nope");
  });
  EXPECT_THROW(v(), std::out_of_range);
  EXPECT_THROW(v(), std::out_of_range);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace go::sync
