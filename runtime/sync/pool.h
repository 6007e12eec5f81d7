// sync.Pool: a cache of allocated but unused objects, shared by goroutines.
//
// Get returns some object previously Put (and removes it from the pool), or
// a fresh one from the New function given to the constructor, or nullptr if
// there is none and no New. Put gives an object to the pool. Callers must not
// assume any relation between the objects Put and those Get returns.
//
// A Pool is a cache, not a free list: it may drop any object it holds at any
// time (destroying it), and it does so on purpose so that idle memory is
// returned. Exactly when (Go ties this to garbage collections; there is no
// GC here, so a runtime timer stands in):
//   * every 2 s the runtime's monitor thread (sysmon, sched::RegisterPeriodic)
//     runs a cleanup over all pools; each cleanup destroys the objects of the
//     previous cleanup's "victim cache" that nobody took, and turns what the
//     pool holds now into the new victim cache (still returned by Get, after
//     the primary cache);
//   * so an object that sits unused is destroyed by the second cleanup after
//     its Put: between 2 and 4 s later (plus up to ~10 ms of sysmon delay).
//     An object Put concurrently with a cleanup may land in either cache;
//   * when a P's shared chain cannot grow (its newest ring buffer holds
//     65536 objects and is full), Put destroys the object instead;
//   * the destructor of the Pool destroys everything it still holds.
// Dropped objects are destroyed with T's destructor on the sysmon thread (or
// in Put / ~Pool), so T's destructor must not block.
//
// Design (Go's sync.Pool, for a runtime without stop-the-world):
//   * per P: a private slot (one object, touched only by goroutines running
//     on that P, lock-free) and a shared chain of lock-free single-producer,
//     multi-consumer ring buffers: the P pushes and pops at the head, other
//     Ps steal from the tail when their own cache is empty;
//   * plain threads and goroutines in synctest bubbles have no P
//     (sched::CurrentP() == -1): they use one mutex-protected list, which Ps
//     also look at before giving up;
//   * each P's slot and chain exist twice, primary and victim; the cleanup
//     only ever *takes* from the victim set and then flips which set is
//     primary, so it never races with a P as producer.
// Get and Put allocate nothing on their fast paths (private slot, own chain).
//
// Memory ordering: a Put(x) happens before the Get that returns x (for
// ThreadSanitizer too: every hand-over is an atomic release/acquire pair);
// New's return happens before the Get that returns its result.
//
// Put(nullptr) is a no-op. T must be destructible through std::unique_ptr<T>.
#ifndef GO_RUNTIME_SYNC_POOL_H_
#define GO_RUNTIME_SYNC_POOL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "runtime/sync/internal/lock.h"

namespace go::sync {

namespace internal {

class PoolDequeue;

// A chain of PoolDequeues of doubling size (Go's poolChain): one producer
// (the owning P) at the head, any number of consumers at the tail.
class PoolChain {
 public:
  PoolChain() = default;
  PoolChain(const PoolChain&) = delete;
  PoolChain& operator=(const PoolChain&) = delete;
  ~PoolChain();

  // Owner only. PushHead returns false when the chain is full.
  bool PushHead(void* x);
  void* PopHead();
  // Anyone.
  void* PopTail();

 private:
  std::atomic<PoolDequeue*> head_{nullptr};  // owner; atomic: owner goroutines differ
  std::atomic<PoolDequeue*> tail_{nullptr};
  std::atomic<PoolDequeue*> all_{nullptr};   // every dequeue ever made, freed by ~PoolChain
};

// The type-erased Pool: stores void* objects, destroys them with destroy_.
class PoolCore {
 public:
  explicit PoolCore(void (*destroy)(void*));
  ~PoolCore();
  PoolCore(const PoolCore&) = delete;
  PoolCore& operator=(const PoolCore&) = delete;

  void Put(void* x);  // x != nullptr
  void* Get();        // nullptr when empty

  // Runs one cleanup of every pool now (what sysmon does every 2 s), for
  // tests of the aging rules; waits for a concurrent periodic run.
  static void CleanupAllForTesting();
  // While a pause is in effect the periodic cleanup does nothing (tests that
  // step cleanups by hand). Nested pauses count.
  static void PausePeriodicCleanupForTesting(bool pause);

 private:
  struct Local;
  struct Locked {
    Lock lock;
    std::vector<void*> items[2] ABSL_GUARDED_BY(lock);
  };
  friend struct PoolRegistry;

  Local* LocalFor(int pid);
  Local* NewLocal(int pid);
  void* GetSlow(int pid, int cur);
  void* GetLocked(int gen);
  void Register();
  // Cleanup: takes every object of the victim set (appending them to
  // *dropped), then makes the victim set the new, empty primary.
  void Age(std::vector<void*>* dropped);

  void (*const destroy_)(void*);
  // Generation: (gen_ & 1) indexes the primary set, the other is the victim.
  std::atomic<uint32_t> gen_{0};
  std::unique_ptr<std::atomic<Local*>[]> locals_;  // indexed by P id
  std::atomic<int> nlocals_{0};                    // 1 + highest P id with a Local
  std::atomic<bool> victim_empty_{true};           // hint: skip the victim scan
  std::atomic<int> locked_count_{0};               // hint: objects in locked_
  Locked locked_;                                  // for callers without a P
  std::atomic<bool> registered_{false};
  PoolCore* reg_prev_ = nullptr;  // registry links, guarded by the registry lock
  PoolCore* reg_next_ = nullptr;
};

}  // namespace internal

template <typename T>
class Pool {
 public:
  // new_fn (optional) makes an object when Get finds none; it may be called
  // concurrently from several goroutines.
  explicit Pool(std::function<std::unique_ptr<T>()> new_fn = nullptr)
      : new_(std::move(new_fn)), core_([](void* p) { delete static_cast<T*>(p); }) {}
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Get removes some object from the pool and returns it; if the pool is
  // empty it returns new_fn() (or nullptr without a new_fn).
  std::unique_ptr<T> Get() {
    if (void* p = core_.Get()) return std::unique_ptr<T>(static_cast<T*>(p));
    if (new_) return new_();
    return nullptr;
  }

  // Put adds x to the pool (the pool takes ownership; it may destroy x at any
  // time). Put(nullptr) does nothing.
  void Put(std::unique_ptr<T> x) {
    if (x) core_.Put(x.release());
  }

 private:
  std::function<std::unique_ptr<T>()> new_;
  internal::PoolCore core_;
};

}  // namespace go::sync

#endif  // GO_RUNTIME_SYNC_POOL_H_
