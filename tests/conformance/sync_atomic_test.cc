// Go-semantics conformance: package sync (Mutex, RWMutex, WaitGroup, Once, OnceFunc, OnceValue,
// Cond, Pool, Map) and sync/atomic's typed values, through runtime/go.h only (the binding API in
// shared/API.md). Each case checks one behaviour Go documents. "Still blocked" facts are checked
// in synctest bubbles, where synctest::Wait() returns once every other goroutine of the bubble
// is durably blocked, so no case depends on the machine's speed.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/go.h"
#include "tests/conformance/conformance.h"

namespace {

constexpr int kGoroutines = 8;
constexpr int kIters = 1000;

// ---------------------------------------------------------------------------------------------
// sync.Mutex

// Go: a Mutex is a mutual exclusion lock: at most one goroutine is between Lock and Unlock.
TEST(Mutex, ExcludesManyGoroutinesIncrementingAPlainCounter) {
  go::sync::Mutex mu;
  int counter = 0;                // plain int: only the Mutex orders the increments
  std::atomic<int> inside{0};     // goroutines inside the critical section right now
  std::atomic<bool> overlap{false};
  go::sync::WaitGroup wg;
  for (int g = 0; g < kGoroutines; g++) {
    wg.Go([&] {
      for (int i = 0; i < kIters; i++) {
        mu.Lock();
        if (inside.fetch_add(1) != 0) overlap = true;
        counter++;
        inside.fetch_sub(1);
        mu.Unlock();
      }
    });
  }
  wg.Wait();
  EXPECT_FALSE(overlap.load());
  EXPECT_EQ(counter, kGoroutines * kIters);
}

// Go: TryLock tries to lock m and reports whether it succeeded (false while m is held).
TEST(Mutex, TryLockFailsWhileHeldAndSucceedsWhenFree) {
  go::sync::Mutex mu;
  EXPECT_TRUE(mu.TryLock());
  EXPECT_FALSE(mu.TryLock());
  bool other = true;
  go::sync::WaitGroup wg;
  wg.Go([&] { other = mu.TryLock(); });  // from another goroutine as well
  wg.Wait();
  EXPECT_FALSE(other);
  mu.Unlock();
  EXPECT_TRUE(mu.TryLock());
  mu.Unlock();
}

// Go: Lock blocks until the mutex is available; Unlock lets a blocked Lock proceed.
TEST(Mutex, LockBlocksUntilUnlock) {
  go::synctest::Test([] {
    go::sync::Mutex mu;
    std::atomic<bool> acquired{false};
    mu.Lock();
    go::Go([&] {
      mu.Lock();
      acquired = true;
      mu.Unlock();
    });
    go::synctest::Wait();  // the goroutine is durably blocked in Lock
    EXPECT_FALSE(acquired.load());
    mu.Unlock();
    go::synctest::Wait();
    EXPECT_TRUE(acquired.load());
  });
}

// Go: a locked Mutex is not associated with a particular goroutine; one may Lock, another Unlock.
TEST(Mutex, MayBeUnlockedByAnotherGoroutine) {
  go::sync::Mutex mu;
  mu.Lock();
  go::sync::WaitGroup wg;
  wg.Go([&] { mu.Unlock(); });
  wg.Wait();
  EXPECT_TRUE(mu.TryLock());
  mu.Unlock();
}

// Go: Mutex implements Locker; here lock/unlock/try_lock make it a standard Lockable.
TEST(Mutex, WorksWithStandardLockGuards) {
  go::sync::Mutex mu;
  {
    std::lock_guard<go::sync::Mutex> l(mu);
    EXPECT_FALSE(mu.TryLock());
  }
  {
    std::unique_lock<go::sync::Mutex> l(mu, std::try_to_lock);
    EXPECT_TRUE(l.owns_lock());
    std::unique_lock<go::sync::Mutex> l2(mu, std::try_to_lock);
    EXPECT_FALSE(l2.owns_lock());
    l.unlock();
    EXPECT_TRUE(l2.try_lock());
  }
  go::sync::Mutex mu2;
  {
    std::scoped_lock l(mu, mu2);
    EXPECT_FALSE(mu.TryLock());
    EXPECT_FALSE(mu2.TryLock());
  }
  EXPECT_TRUE(mu.TryLock());
  EXPECT_TRUE(mu2.TryLock());
  mu.Unlock();
  mu2.Unlock();
}

// Go: "It is a run-time error if m is not locked on entry to Unlock" (fatal in Go; a go::Panic
// with Go's text here, and a lone misuse leaves the Mutex usable, as mutex.h documents).
TEST(Mutex, UnlockOfUnlockedMutexPanics) {
  go::sync::Mutex mu;
  EXPECT_GO_PANIC(mu.Unlock(), "sync: unlock of unlocked mutex");
  mu.Lock();
  mu.Unlock();
  EXPECT_GO_PANIC(mu.Unlock(), "sync: unlock of unlocked mutex");
  EXPECT_TRUE(mu.TryLock());
  mu.Unlock();
}

// ---------------------------------------------------------------------------------------------
// sync.RWMutex

// Go: the lock can be held by an arbitrary number of readers at once.
TEST(RWMutex, ManyReadersHoldTheLockAtOnce) {
  go::synctest::Test([] {
    go::sync::RWMutex rw;
    go::sync::WaitGroup all_in;  // a barrier: passable only while all readers hold RLock
    go::sync::WaitGroup done;
    all_in.Add(kGoroutines);
    for (int i = 0; i < kGoroutines; i++) {
      done.Go([&] {
        rw.RLock();
        all_in.Done();
        all_in.Wait();
        rw.RUnlock();
      });
    }
    done.Wait();
    EXPECT_TRUE(rw.TryLock());
    rw.Unlock();
  });
}

// Go: a writer holds the lock alone: no reader and no other writer while it is write-locked.
TEST(RWMutex, WriterExcludesReadersAndWriters) {
  go::sync::RWMutex rw;
  int a = 0, b = 0;  // invariant a == b, kept by writers under Lock
  std::atomic<int> readers{0}, writers{0};
  std::atomic<bool> violation{false};
  go::sync::WaitGroup wg;
  for (int g = 0; g < 4; g++) {
    wg.Go([&] {
      for (int i = 0; i < 300; i++) {
        rw.Lock();
        if (writers.fetch_add(1) != 0 || readers.load() != 0) violation = true;
        a++;
        go::Gosched();
        b++;
        writers.fetch_sub(1);
        rw.Unlock();
      }
    });
    wg.Go([&] {
      for (int i = 0; i < 300; i++) {
        rw.RLock();
        readers.fetch_add(1);
        if (writers.load() != 0 || a != b) violation = true;
        readers.fetch_sub(1);
        rw.RUnlock();
      }
    });
  }
  wg.Wait();
  EXPECT_FALSE(violation.load());
  EXPECT_EQ(a, 4 * 300);
  EXPECT_EQ(b, 4 * 300);
}

// Go: TryRLock/TryLock report whether they locked; they fail while a writer holds the lock,
// TryLock also fails while readers hold it, and TryRLock succeeds alongside other readers.
TEST(RWMutex, TryLockAndTryRLock) {
  go::sync::RWMutex rw;
  ASSERT_TRUE(rw.TryLock());
  EXPECT_FALSE(rw.TryRLock());
  EXPECT_FALSE(rw.TryLock());
  rw.Unlock();
  ASSERT_TRUE(rw.TryRLock());
  EXPECT_TRUE(rw.TryRLock());
  EXPECT_FALSE(rw.TryLock());
  rw.RUnlock();
  rw.RUnlock();
  EXPECT_TRUE(rw.TryLock());
  rw.Unlock();
}

// Go: "If any goroutine calls Lock while the lock is already held by one or more readers,
// concurrent calls to RLock will block until the writer has acquired (and released) the lock."
TEST(RWMutex, PendingWriterBlocksNewReaders) {
  go::synctest::Test([] {
    go::sync::RWMutex rw;
    std::atomic<int> seq{0};
    std::atomic<int> writer_at{-1}, reader_at{-1};
    go::sync::WaitGroup wg;
    rw.RLock();  // this goroutine is the first reader
    wg.Go([&] {
      rw.Lock();
      writer_at = seq.fetch_add(1);
      rw.Unlock();
    });
    go::synctest::Wait();  // the writer waits for the reader, and has announced itself
    EXPECT_FALSE(rw.TryRLock());
    wg.Go([&] {
      rw.RLock();
      reader_at = seq.fetch_add(1);
      rw.RUnlock();
    });
    go::synctest::Wait();  // the new reader is blocked although only readers hold the lock
    EXPECT_EQ(writer_at.load(), -1);
    EXPECT_EQ(reader_at.load(), -1);
    rw.RUnlock();
    wg.Wait();
    EXPECT_EQ(writer_at.load(), 0);  // the writer went first,
    EXPECT_EQ(reader_at.load(), 1);  // then the reader queued behind it
  });
}

// Go: "It is a run-time error if rw is not locked for reading on entry to RUnlock" (fatal in
// Go; a go::Panic with Go's text here, the lock left as it was).
TEST(RWMutex, RUnlockOfUnlockedPanics) {
  go::sync::RWMutex rw;
  EXPECT_GO_PANIC(rw.RUnlock(), "sync: RUnlock of unlocked RWMutex");
  rw.Lock();  // write-locked is not read-locked either
  EXPECT_GO_PANIC(rw.RUnlock(), "sync: RUnlock of unlocked RWMutex");
  rw.Unlock();
  EXPECT_TRUE(rw.TryLock());
  rw.Unlock();
}

// Go: "It is a run-time error if rw is not locked for writing on entry to Unlock" (read-locked
// does not count).
TEST(RWMutex, UnlockOfUnlockedPanics) {
  go::sync::RWMutex rw;
  EXPECT_GO_PANIC(rw.Unlock(), "sync: Unlock of unlocked RWMutex");
  rw.Lock();
  rw.Unlock();
  EXPECT_GO_PANIC(rw.Unlock(), "sync: Unlock of unlocked RWMutex");
  rw.RLock();
  EXPECT_GO_PANIC(rw.Unlock(), "sync: Unlock of unlocked RWMutex");
  rw.RUnlock();
  EXPECT_TRUE(rw.TryLock());
  rw.Unlock();
}

// Go: RLocker/Locker; here the standard SharedLockable names serve std::shared_lock/unique_lock.
TEST(RWMutex, WorksWithSharedLockAndUniqueLock) {
  go::sync::RWMutex rw;
  {
    std::shared_lock<go::sync::RWMutex> r1(rw);
    std::shared_lock<go::sync::RWMutex> r2(rw, std::try_to_lock);
    EXPECT_TRUE(r2.owns_lock());
    std::unique_lock<go::sync::RWMutex> w(rw, std::try_to_lock);
    EXPECT_FALSE(w.owns_lock());
  }
  {
    std::unique_lock<go::sync::RWMutex> w(rw);
    std::shared_lock<go::sync::RWMutex> r(rw, std::try_to_lock);
    EXPECT_FALSE(r.owns_lock());
  }
  EXPECT_TRUE(rw.TryLock());
  rw.Unlock();
}

// ---------------------------------------------------------------------------------------------
// sync.WaitGroup

// Go: Wait blocks until the counter is zero; each Done happens before the Wait it unblocks.
TEST(WaitGroup, WaitReturnsAfterAllDone) {
  go::sync::WaitGroup wg;
  std::array<int, kGoroutines> results{};  // plain ints: ordered only by Done -> Wait
  wg.Add(kGoroutines);
  for (int i = 0; i < kGoroutines; i++) {
    go::Go([&, i] {
      results[i] = i + 1;
      wg.Done();
    });
  }
  wg.Wait();
  for (int i = 0; i < kGoroutines; i++) EXPECT_EQ(results[i], i + 1);
}

// Go: Wait blocks while the counter is positive, and every waiter is released when it hits zero.
TEST(WaitGroup, WaitBlocksUntilCounterIsZero) {
  go::synctest::Test([] {
    go::sync::WaitGroup wg;
    std::atomic<int> released{0};
    wg.Add(2);
    go::sync::WaitGroup waiters;
    for (int i = 0; i < 3; i++) {
      waiters.Go([&] {
        wg.Wait();
        released++;
      });
    }
    go::synctest::Wait();
    EXPECT_EQ(released.load(), 0);
    wg.Done();
    go::synctest::Wait();
    EXPECT_EQ(released.load(), 0);  // counter is 1
    wg.Done();
    waiters.Wait();
    EXPECT_EQ(released.load(), 3);
  });
}

// Go: "If the counter becomes zero... if the counter goes negative, Add panics."
TEST(WaitGroup, NegativeCounterPanics) {
  go::sync::WaitGroup wg;
  EXPECT_GO_PANIC(wg.Done(), "sync: negative WaitGroup counter");
  wg.Add(1);
  EXPECT_GO_PANIC(wg.Add(-2), "sync: negative WaitGroup counter");
  // waitgroup.h: the counter is restored before the throw, so it is still 1.
  wg.Done();
  wg.Wait();
}

// Go: Wait with a zero counter returns at once.
TEST(WaitGroup, WaitWithZeroCounterReturnsAtOnce) {
  go::sync::WaitGroup wg;
  wg.Wait();
  wg.Add(3);
  wg.Add(-3);
  wg.Wait();
}

// Go 1.25: WaitGroup.Go calls f in a new goroutine and adds that task to the WaitGroup.
TEST(WaitGroup, GoRunsFAndWaitWaitsForIt) {
  go::sync::WaitGroup wg;
  std::array<int, kGoroutines> results{};
  for (int i = 0; i < kGoroutines; i++) wg.Go([&results, i] { results[i] = 10 * i; });
  wg.Wait();
  for (int i = 0; i < kGoroutines; i++) EXPECT_EQ(results[i], 10 * i);
}

// Go: a WaitGroup may be reused once the previous Wait has returned.
TEST(WaitGroup, ReuseAfterWaitReturns) {
  go::sync::WaitGroup wg;
  int sum = 0;
  go::sync::Mutex mu;
  for (int round = 1; round <= 5; round++) {
    for (int i = 0; i < round; i++) {
      wg.Go([&] {
        std::lock_guard<go::sync::Mutex> l(mu);
        sum++;
      });
    }
    wg.Wait();
    std::lock_guard<go::sync::Mutex> l(mu);
    EXPECT_EQ(sum, round * (round + 1) / 2);
  }
}

// ---------------------------------------------------------------------------------------------
// sync.Once, OnceFunc, OnceValue

// Go: Do calls f if and only if Do is being called for the first time for this Once.
TEST(Once, RunsFExactlyOnceUnderConcurrency) {
  go::sync::Once once;
  std::atomic<int> calls{0};
  go::sync::WaitGroup wg;
  for (int i = 0; i < 16; i++) {
    wg.Go([&] {
      once.Do([&] { calls++; });
      EXPECT_EQ(calls.load(), 1);  // no Do returns before f has returned
    });
  }
  wg.Wait();
  once.Do([&] { calls++; });
  EXPECT_EQ(calls.load(), 1);
  go::sync::Once other;  // a separate Once runs its own f
  other.Do([&] { calls++; });
  EXPECT_EQ(calls.load(), 2);
}

// Go: "no call to Do returns until the one call to f returns".
TEST(Once, OtherCallersWaitUntilFReturns) {
  go::synctest::Test([] {
    go::sync::Once once;
    auto release = go::MakeChan<int>();
    int data = 0;  // plain: written by f, read after Do returns
    std::atomic<bool> second_returned{false};
    go::sync::WaitGroup wg;
    wg.Go([&] {
      once.Do([&] {
        release.Recv();
        data = 42;
      });
    });
    go::synctest::Wait();  // the first caller is inside f, blocked
    wg.Go([&] {
      once.Do([] { ADD_FAILURE() << "second f must not run"; });
      EXPECT_EQ(data, 42);
      second_returned = true;
    });
    go::synctest::Wait();
    EXPECT_FALSE(second_returned.load());  // blocked behind the running f
    release.Send(1);
    wg.Wait();
    EXPECT_TRUE(second_returned.load());
  });
}

// Go: "if f panics, Do considers it to have returned; future calls of Do return without calling
// f" (once.h: the exception propagates to the caller whose f threw).
TEST(Once, FThatThrowsStillCountsAsDone) {
  go::sync::Once once;
  EXPECT_THROW(once.Do([] { throw std::runtime_error("boom"); }), std::runtime_error);
  int calls = 0;
  once.Do([&] { calls++; });
  EXPECT_EQ(calls, 0);
}

// Go 1.21: OnceFunc returns a function that invokes f only once, however often and however
// concurrently it is called.
TEST(OnceFunc, CallsFOnce) {
  std::atomic<int> calls{0};
  std::function<void()> f = go::sync::OnceFunc([&] { calls++; });
  go::sync::WaitGroup wg;
  for (int i = 0; i < 16; i++) {
    wg.Go([&] {
      f();
      EXPECT_EQ(calls.load(), 1);
    });
  }
  wg.Wait();
  f();
  EXPECT_EQ(calls.load(), 1);
}

// Go 1.21: "If f panics, the returned function will panic with the same value on every call."
TEST(OnceFunc, PanicIsRepeatedOnEveryCall) {
  int calls = 0;
  std::function<void()> f = go::sync::OnceFunc([&] {
    calls++;
    throw std::runtime_error("boom");
  });
  for (int i = 0; i < 3; i++) {
    try {
      f();
      ADD_FAILURE() << "call " << i << " did not throw";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "boom");
    }
  }
  EXPECT_EQ(calls, 1);
}

// Go 1.21: OnceValue returns a function that invokes f once and returns f's value every time;
// concurrent callers all get that value.
TEST(OnceValue, ConcurrentCallersGetTheSameValue) {
  std::atomic<int> calls{0};
  std::function<std::string()> f = go::sync::OnceValue<std::string>([&] {
    return "value#" + std::to_string(calls.fetch_add(1) + 1);
  });
  std::array<std::string, 16> got;
  go::sync::WaitGroup wg;
  for (int i = 0; i < 16; i++) wg.Go([&, i] { got[i] = f(); });
  wg.Wait();
  for (const std::string& s : got) EXPECT_EQ(s, "value#1");
  EXPECT_EQ(f(), "value#1");
  EXPECT_EQ(calls.load(), 1);
}

// Go 1.21: a concurrent caller of OnceValue's function waits until f has returned.
TEST(OnceValue, ConcurrentCallerWaitsForF) {
  go::synctest::Test([] {
    auto release = go::MakeChan<int>();
    std::function<int()> f = go::sync::OnceValue<int>([&] { return *release.Recv(); });
    std::atomic<int> a{0}, b{0};
    go::sync::WaitGroup wg;
    wg.Go([&] { a = f(); });
    go::synctest::Wait();  // inside f
    wg.Go([&] { b = f(); });
    go::synctest::Wait();
    EXPECT_EQ(a.load(), 0);
    EXPECT_EQ(b.load(), 0);
    release.Send(7);
    wg.Wait();
    EXPECT_EQ(a.load(), 7);
    EXPECT_EQ(b.load(), 7);
  });
}

// Go 1.21: if f panics, OnceValue's function panics with the same value on every call.
TEST(OnceValue, PanicIsRepeatedOnEveryCall) {
  int calls = 0;
  std::function<int()> f = go::sync::OnceValue<int>([&]() -> int {
    calls++;
    throw std::runtime_error("no value");
  });
  for (int i = 0; i < 3; i++) {
    try {
      (void)f();
      ADD_FAILURE() << "call " << i << " did not throw";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "no value");
    }
  }
  EXPECT_EQ(calls, 1);
}

// ---------------------------------------------------------------------------------------------
// sync.Cond

// Go: Signal wakes one goroutine waiting on c, if there is any.
TEST(Cond, SignalWakesOneWaiter) {
  go::synctest::Test([] {
    go::sync::Mutex mu;
    go::sync::Cond cond(mu);
    int woken = 0;  // guarded by mu
    go::sync::WaitGroup wg;
    for (int i = 0; i < 3; i++) {
      wg.Go([&] {
        mu.Lock();
        cond.Wait();
        woken++;
        mu.Unlock();
      });
    }
    go::synctest::Wait();  // all three are parked in Wait
    for (int want = 1; want <= 3; want++) {
      cond.Signal();
      go::synctest::Wait();
      mu.Lock();
      EXPECT_EQ(woken, want);
      mu.Unlock();
    }
    wg.Wait();
  });
}

// Go: Broadcast wakes all goroutines waiting on c.
TEST(Cond, BroadcastWakesAllWaiters) {
  go::synctest::Test([] {
    go::sync::Mutex mu;
    go::sync::Cond cond(mu);
    bool ready = false;  // guarded by mu
    int woken = 0;
    go::sync::WaitGroup wg;
    for (int i = 0; i < 5; i++) {
      wg.Go([&] {
        mu.Lock();
        while (!ready) cond.Wait();
        woken++;
        mu.Unlock();
      });
    }
    go::synctest::Wait();
    mu.Lock();
    ready = true;
    mu.Unlock();
    cond.Broadcast();
    wg.Wait();
    EXPECT_EQ(woken, 5);
  });
}

// Go: Wait "locks c.L before returning": a woken waiter cannot return while another holds L.
TEST(Cond, WaitReacquiresTheLockBeforeReturning) {
  go::synctest::Test([] {
    go::sync::Mutex mu;
    go::sync::Cond cond(mu);
    int state = 0;  // guarded by mu
    std::atomic<bool> returned{false};
    go::sync::WaitGroup wg;
    wg.Go([&] {
      mu.Lock();
      cond.Wait();
      EXPECT_FALSE(mu.TryLock());  // it holds L again
      EXPECT_EQ(state, 2);         // and sees what the signaller did before Unlock
      returned = true;
      mu.Unlock();
    });
    go::synctest::Wait();
    mu.Lock();
    state = 1;
    cond.Signal();
    go::synctest::Wait();  // woken, but blocked on L
    EXPECT_FALSE(returned.load());
    state = 2;
    mu.Unlock();
    wg.Wait();
    EXPECT_TRUE(returned.load());
  });
}

// Go: a Signal with no waiter is not remembered; a later Wait still blocks.
TEST(Cond, SignalWithoutWaitersIsLost) {
  go::synctest::Test([] {
    go::sync::Mutex mu;
    go::sync::Cond cond(mu);
    cond.Signal();
    cond.Broadcast();
    std::atomic<bool> returned{false};
    go::sync::WaitGroup wg;
    wg.Go([&] {
      mu.Lock();
      cond.Wait();
      returned = true;
      mu.Unlock();
    });
    go::synctest::Wait();
    EXPECT_FALSE(returned.load());
    cond.Signal();
    wg.Wait();
    EXPECT_TRUE(returned.load());
  });
}

// Go: Wait unlocks c.L, which the caller must hold (cond.h: otherwise Unlock panics).
TEST(Cond, WaitWithoutHoldingTheLockPanics) {
  go::sync::Mutex mu;
  go::sync::Cond cond(mu);
  EXPECT_GO_PANIC(cond.Wait(), "sync: unlock of unlocked mutex");
}

// ---------------------------------------------------------------------------------------------
// sync.Pool

struct Buf {
  int id = 0;
  std::atomic<bool> in_use{false};
};

// Go: "If Get would otherwise return nil and p.New is non-nil, Get returns the result of
// calling p.New."
TEST(Pool, GetOnEmptyPoolCallsNew) {
  int made = 0;
  go::sync::Pool<Buf> pool([&] {
    auto b = std::make_unique<Buf>();
    b->id = ++made;
    return b;
  });
  std::unique_ptr<Buf> a = pool.Get();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, 1);
  std::unique_ptr<Buf> b = pool.Get();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->id, 2);
  EXPECT_EQ(made, 2);
}

// Go: without New, Get on an empty pool returns nil; Put(nil) adds nothing.
TEST(Pool, GetWithoutNewOnEmptyPoolReturnsNull) {
  go::sync::Pool<Buf> pool;
  EXPECT_EQ(pool.Get(), nullptr);
  pool.Put(nullptr);
  EXPECT_EQ(pool.Get(), nullptr);
}

// Go: Get returns an arbitrary item previously Put, or New's result; "callers should not assume
// any relation between values passed to Put and the values returned by Get" (no reuse asserted).
TEST(Pool, GetAfterPutReturnsThatObjectOrAFreshOne) {
  int made = 0;
  go::sync::Pool<Buf> pool([&] {
    made++;
    return std::make_unique<Buf>();
  });
  auto x = std::make_unique<Buf>();
  x->id = 99;
  Buf* raw = x.get();
  pool.Put(std::move(x));
  std::unique_ptr<Buf> got = pool.Get();
  ASSERT_NE(got, nullptr);
  if (got.get() == raw) {
    EXPECT_EQ(got->id, 99);
    EXPECT_EQ(made, 0);
  } else {
    EXPECT_EQ(made, 1);  // the pool dropped it: Get made a new one
  }
}

// Go: a Pool is safe for simultaneous use; an object is handed to one Get at a time.
TEST(Pool, ConcurrentGetPutNeverSharesAnObject) {
  std::atomic<int> made{0};
  go::sync::Pool<Buf> pool([&] {
    made++;
    return std::make_unique<Buf>();
  });
  std::atomic<bool> shared{false};
  go::sync::WaitGroup wg;
  for (int g = 0; g < kGoroutines; g++) {
    wg.Go([&] {
      for (int i = 0; i < 200; i++) {
        std::unique_ptr<Buf> b = pool.Get();
        if (b->in_use.exchange(true)) shared = true;
        b->id++;  // plain write: the Put -> Get hand-over orders it
        if (i % 7 == 0) go::Gosched();
        b->in_use.store(false);
        pool.Put(std::move(b));
      }
    });
  }
  wg.Wait();
  EXPECT_FALSE(shared.load());
  EXPECT_GE(made.load(), 1);
  EXPECT_LE(made.load(), kGoroutines * 200);
}

// ---------------------------------------------------------------------------------------------
// sync.Map

// Go: Load returns (value, ok); Store sets the value; a later Store overwrites it.
TEST(Map, LoadStore) {
  go::sync::Map<std::string, int> m;
  EXPECT_EQ(m.Load("a"), std::nullopt);
  m.Store("a", 1);
  EXPECT_EQ(m.Load("a"), std::optional<int>(1));
  m.Store("a", 2);
  EXPECT_EQ(m.Load("a"), std::optional<int>(2));
  EXPECT_EQ(m.Load("b"), std::nullopt);
}

// Go: "LoadOrStore returns the existing value for the key if present. Otherwise, it stores and
// returns the given value. The loaded result is true if the value was loaded, false if stored."
TEST(Map, LoadOrStoreReturnsValueAndLoaded) {
  go::sync::Map<int, std::string> m;
  EXPECT_EQ(m.LoadOrStore(1, "first"), std::make_pair(std::string("first"), false));
  EXPECT_EQ(m.LoadOrStore(1, "second"), std::make_pair(std::string("first"), true));
  EXPECT_EQ(m.Load(1), std::optional<std::string>("first"));
}

// Go: LoadAndDelete deletes the value for a key, returning the previous value if any; Delete
// deletes (a missing key is fine).
TEST(Map, LoadAndDeleteAndDelete) {
  go::sync::Map<int, int> m;
  m.Store(1, 10);
  m.Store(2, 20);
  EXPECT_EQ(m.LoadAndDelete(1), std::optional<int>(10));
  EXPECT_EQ(m.Load(1), std::nullopt);
  EXPECT_EQ(m.LoadAndDelete(1), std::nullopt);
  m.Delete(2);
  EXPECT_EQ(m.Load(2), std::nullopt);
  m.Delete(3);
  m.Store(1, 11);  // a deleted key can be stored again
  EXPECT_EQ(m.Load(1), std::optional<int>(11));
}

// Go: Range calls f sequentially for each key and value; if f returns false, range stops.
TEST(Map, RangeVisitsEachKeyOnceAndStopsEarly) {
  go::sync::Map<int, int> m;
  for (int i = 0; i < 100; i++) m.Store(i, i * i);
  std::set<int> seen;
  m.Range([&](const int& k, const int& v) {
    EXPECT_TRUE(seen.insert(k).second) << "key " << k << " visited twice";
    EXPECT_EQ(v, k * k);
    return true;
  });
  EXPECT_EQ(seen.size(), 100u);
  int calls = 0;
  m.Range([&](const int&, const int&) {
    calls++;
    return calls < 3;
  });
  EXPECT_EQ(calls, 3);
}

// Go: "Range does not block other methods on the receiver; even f itself may call any method
// on m."
TEST(Map, RangeCallbackMayModifyTheMap) {
  go::sync::Map<int, int> m;
  for (int i = 0; i < 10; i++) m.Store(i, i);
  m.Range([&](const int& k, const int&) {
    if (k % 2 == 0) m.Delete(k);
    return true;
  });
  int left = 0;
  m.Range([&](const int& k, const int&) {
    EXPECT_EQ(k % 2, 1);
    left++;
    return true;
  });
  EXPECT_EQ(left, 5);
}

// Go: a Map is safe for concurrent use; concurrent LoadOrStore of one key stores exactly once
// and every caller gets the stored value.
TEST(Map, ConcurrentUse) {
  go::sync::Map<int, int> m;
  std::atomic<int> stored{0};
  std::array<int, kGoroutines> got{};
  go::sync::WaitGroup wg;
  for (int g = 0; g < kGoroutines; g++) {
    wg.Go([&, g] {
      auto [v, loaded] = m.LoadOrStore(-1, g);
      if (!loaded) stored++;
      got[g] = v;
      for (int i = 0; i < 200; i++) {  // disjoint keys per goroutine, plus reads of shared ones
        m.Store(g * 1000 + i, i);
        EXPECT_EQ(m.Load(g * 1000 + i), std::optional<int>(i));
        if (i % 2 == 1) m.Delete(g * 1000 + i);
        (void)m.Load(-1);
      }
    });
  }
  wg.Wait();
  EXPECT_EQ(stored.load(), 1);
  for (int g = 0; g < kGoroutines; g++) EXPECT_EQ(got[g], got[0]);
  int n = 0;
  m.Range([&](const int& k, const int& v) {
    if (k != -1) {
      EXPECT_EQ(v % 2, 0);
    }
    n++;
    return true;
  });
  EXPECT_EQ(n, 1 + kGoroutines * 100);
}

// ---------------------------------------------------------------------------------------------
// sync/atomic

// Go: Add returns the new value, Swap the old one, CompareAndSwap whether it swapped; the zero
// value is 0.
TEST(Atomic, Int32Operations) {
  go::atomic::Int32 x;
  EXPECT_EQ(x.Load(), 0);
  x.Store(5);
  EXPECT_EQ(x.Load(), 5);
  EXPECT_EQ(x.Add(3), 8);
  EXPECT_EQ(x.Add(-10), -2);
  EXPECT_EQ(x.Swap(7), -2);
  EXPECT_EQ(x.Load(), 7);
  EXPECT_FALSE(x.CompareAndSwap(6, 1));
  EXPECT_EQ(x.Load(), 7);
  EXPECT_TRUE(x.CompareAndSwap(7, 1));
  EXPECT_EQ(x.Load(), 1);
}

// Go: same for Int64, across the full 64-bit range.
TEST(Atomic, Int64Operations) {
  go::atomic::Int64 x;
  EXPECT_EQ(x.Load(), 0);
  const int64_t big = int64_t{1} << 40;
  EXPECT_EQ(x.Add(big), big);
  EXPECT_EQ(x.Add(-1), big - 1);
  EXPECT_EQ(x.Swap(INT64_MIN), big - 1);
  EXPECT_TRUE(x.CompareAndSwap(INT64_MIN, INT64_MAX));
  EXPECT_EQ(x.Load(), INT64_MAX);
}

// Go: unsigned Add wraps; "to subtract a signed positive constant value c from x, do
// AddUint32(&x, ^uint32(c-1))".
TEST(Atomic, Uint32AddWrapsAround) {
  go::atomic::Uint32 x;
  EXPECT_EQ(x.Add(~uint32_t{0}), UINT32_MAX);  // 0 - 1 wraps to the maximum
  EXPECT_EQ(x.Add(1u), 0u);                     // and back
  x.Store(10);
  EXPECT_EQ(x.Add(~uint32_t{3 - 1}), 7u);       // subtract 3
  EXPECT_EQ(x.Swap(100u), 7u);
  EXPECT_TRUE(x.CompareAndSwap(100u, 1u));
  EXPECT_FALSE(x.CompareAndSwap(100u, 2u));
  EXPECT_EQ(x.Load(), 1u);
}

// Go: same for Uint64.
TEST(Atomic, Uint64AddWrapsAround) {
  go::atomic::Uint64 x;
  x.Store(UINT64_MAX);
  EXPECT_EQ(x.Add(2u), 1u);
  EXPECT_EQ(x.Add(~uint64_t{0}), 0u);  // subtract 1
  EXPECT_EQ(x.Swap(uint64_t{1} << 63), 0u);
  EXPECT_TRUE(x.CompareAndSwap(uint64_t{1} << 63, 3u));
  EXPECT_EQ(x.Load(), 3u);
}

// Go: signed integers wrap on overflow (two's complement), so Add past the maximum wraps to the
// minimum; atomic.h documents "wrapping on overflow".
TEST(Atomic, SignedAddWrapsOnOverflow) {
  go::atomic::Int32 x;
  x.Store(INT32_MAX);
  EXPECT_EQ(x.Add(1), INT32_MIN);
  go::atomic::Int64 y;
  y.Store(INT64_MIN);
  EXPECT_EQ(y.Add(-1), INT64_MAX);
}

// Go: atomic operations are indivisible: concurrent Adds each return a distinct new value and
// none is lost.
TEST(Atomic, ConcurrentAddsReturnDistinctValues) {
  go::atomic::Int64 x;
  std::vector<std::atomic<bool>> seen(kGoroutines * kIters + 1);
  std::atomic<bool> duplicate{false};
  go::sync::WaitGroup wg;
  for (int g = 0; g < kGoroutines; g++) {
    wg.Go([&] {
      for (int i = 0; i < kIters; i++) {
        int64_t v = x.Add(1);
        if (v < 1 || v > kGoroutines * kIters || seen[v].exchange(true)) duplicate = true;
      }
    });
  }
  wg.Wait();
  EXPECT_FALSE(duplicate.load());
  EXPECT_EQ(x.Load(), kGoroutines * kIters);
}

// Go: CompareAndSwap succeeds for exactly one of several goroutines racing from one old value,
// so a CAS loop loses no update.
TEST(Atomic, CompareAndSwapLoopLosesNoUpdate) {
  go::atomic::Uint32 x;
  go::sync::WaitGroup wg;
  for (int g = 0; g < kGoroutines; g++) {
    wg.Go([&] {
      for (int i = 0; i < kIters; i++) {
        uint32_t old;
        do {
          old = x.Load();
        } while (!x.CompareAndSwap(old, old + 2));
      }
    });
  }
  wg.Wait();
  EXPECT_EQ(x.Load(), uint32_t{2 * kGoroutines * kIters});
}

// Go: atomic.Bool: zero value false; Swap returns the old value; CompareAndSwap reports success.
TEST(Atomic, BoolOperations) {
  go::atomic::Bool b;
  EXPECT_FALSE(b.Load());
  b.Store(true);
  EXPECT_TRUE(b.Load());
  EXPECT_TRUE(b.Swap(false));
  EXPECT_FALSE(b.Swap(false));
  EXPECT_FALSE(b.CompareAndSwap(true, true));
  EXPECT_TRUE(b.CompareAndSwap(false, true));
  EXPECT_TRUE(b.Load());
}

// Go: atomic.Pointer[T]: zero value nil; Swap returns the old pointer; CompareAndSwap compares
// addresses.
TEST(Atomic, PointerOperations) {
  int a = 1, b = 2;
  go::atomic::Pointer<int> p;
  EXPECT_EQ(p.Load(), nullptr);
  p.Store(&a);
  EXPECT_EQ(p.Load(), &a);
  EXPECT_EQ(p.Swap(&b), &a);
  EXPECT_FALSE(p.CompareAndSwap(&a, nullptr));
  EXPECT_EQ(p.Load(), &b);
  EXPECT_TRUE(p.CompareAndSwap(&b, nullptr));
  EXPECT_EQ(p.Load(), nullptr);
}

// Go's memory model: if an atomic Load observes a Store, everything before the Store happens
// before everything after the Load (publishing through a Pointer).
TEST(Atomic, PointerPublishesPointee) {
  struct Msg {
    int x = 0;
    std::string s;
  };
  go::atomic::Pointer<Msg> p;
  Msg msg;
  go::sync::WaitGroup wg;
  wg.Go([&] {
    Msg* m;
    while ((m = p.Load()) == nullptr) go::Gosched();
    EXPECT_EQ(m->x, 7);
    EXPECT_EQ(m->s, "published");
  });
  msg.x = 7;
  msg.s = "published";
  p.Store(&msg);
  wg.Wait();
}

// Go: atomic.Value: Load returns the value last stored, Swap the previous value, and
// CompareAndSwap compares with == (atomic.h: a default Value holds T{}, Go's "nil").
TEST(Atomic, ValueOperations) {
  go::atomic::Value<int> i;
  EXPECT_EQ(i.Load(), 0);
  i.Store(3);
  EXPECT_EQ(i.Swap(4), 3);
  EXPECT_FALSE(i.CompareAndSwap(3, 5));
  EXPECT_TRUE(i.CompareAndSwap(4, 5));
  EXPECT_EQ(i.Load(), 5);

  go::atomic::Value<std::string> s;
  EXPECT_EQ(s.Load(), "");
  s.Store("hello");
  EXPECT_EQ(s.Load(), "hello");
  EXPECT_EQ(s.Swap("world"), "hello");
  EXPECT_FALSE(s.CompareAndSwap("hello", "x"));
  EXPECT_TRUE(s.CompareAndSwap(std::string("wor") + "ld", "x"));  // ==, not identity
  EXPECT_EQ(s.Load(), "x");

  struct Quad {
    uint64_t a, b, c, d;
    bool operator==(const Quad&) const = default;
  };
  go::atomic::Value<Quad> q;
  EXPECT_EQ(q.Load(), (Quad{}));
  q.Store(Quad{1, 2, 3, 4});
  EXPECT_EQ(q.Load(), (Quad{1, 2, 3, 4}));
  EXPECT_EQ(q.Swap(Quad{5, 6, 7, 8}), (Quad{1, 2, 3, 4}));
  EXPECT_FALSE(q.CompareAndSwap(Quad{1, 2, 3, 4}, Quad{}));
  EXPECT_TRUE(q.CompareAndSwap(Quad{5, 6, 7, 8}, Quad{}));
  EXPECT_EQ(q.Load(), (Quad{}));
}

// Go: Value's Load and Store are atomic: a reader never sees a mix of two stored values.
TEST(Atomic, ValueLoadIsNeverTorn) {
  struct Quad {
    uint64_t a, b, c, d;
  };
  go::atomic::Value<Quad> q;  // {0, 0, 0, 0}
  go::atomic::Value<std::string> s;
  s.Store(std::string(64, 'a'));
  std::atomic<bool> torn{false};
  go::atomic::Bool stop;
  go::sync::WaitGroup wg;
  for (int w = 0; w < 2; w++) {
    wg.Go([&, w] {
      for (uint64_t i = 1; i <= 2000; i++) {
        uint64_t v = i * 2 + w;
        q.Store(Quad{v, v, v, v});
        s.Store(std::string(64, static_cast<char>('a' + (i + w) % 26)));
        if (i % 64 == 0) go::Gosched();
      }
    });
  }
  go::sync::WaitGroup readers;
  for (int r = 0; r < 2; r++) {
    readers.Go([&] {
      while (!stop.Load()) {
        Quad x = q.Load();
        if (x.a != x.b || x.b != x.c || x.c != x.d) torn = true;
        std::string t = s.Load();
        if (t.size() != 64 || t.find_first_not_of(t[0]) != std::string::npos) torn = true;
        go::Gosched();
      }
    });
  }
  wg.Wait();
  stop.Store(true);
  readers.Wait();
  EXPECT_FALSE(torn.load());
}

}  // namespace
