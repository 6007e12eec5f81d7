// sync.Map<K, V>: a concurrent map, fast for read-mostly keys.
//
// Safe for concurrent use by any number of goroutines and threads without
// extra locking. As in Go, it pays off for two patterns: (1) an entry is
// written once and then read many times (caches that only grow), and
// (2) goroutines read, write and overwrite disjoint sets of keys. Otherwise
// a plain map with a Mutex or RWMutex is simpler and often as fast.
//
//   Load(k)              the value, or nullopt
//   Store(k, v)          sets the value
//   LoadOrStore(k, v)    the existing value and true, or stores v: (v, false)
//   LoadAndDelete(k)     deletes, returning the previous value if any
//   Delete(k)            deletes
//   Range(f)             calls f(k, v) for each entry until f returns false
//
// Design: Go's. A read-only snapshot (an immutable hash map from key to an
// entry, published through an atomic pointer) serves Load, and Store of a
// key it already holds, without any lock: the entry's value is an atomic
// pointer that is swapped. New keys go to a "dirty" map under a mutex; once
// enough lookups have missed the snapshot (as many as the dirty map has
// keys), the dirty map becomes the new snapshot, so the mutex cost of
// misses is amortized against the cost of copying. Deleted entries stay in
// the snapshot as null until the next dirty map is built, when they are
// "expunged" (left out). A hot key that is only read costs two loads and a
// hash lookup, and readers of it never write a shared cache line.
//
// The rejected alternative, a sharded map with one reader/writer lock per
// shard, makes every Load write the shard's lock word: readers of one hot
// key then contend on that cache line, which is the case this type exists
// for.
//
// Memory without a garbage collector: replaced values, dropped entries and
// old snapshots are unlinked under the writer's protocol and freed only
// after a grace period (internal/read_section.h) during which every reader
// that could still see them has finished. Retired objects are freed in
// batches of 64, so a Store costs one heap allocation (the boxed value, as
// in Go) plus an amortized share of a grace period.
//
// Values are copied out: Load returns std::optional<V> by value, Range
// copies the live (key, value) pairs first and then calls f without any
// lock held, so f may call any method of the Map and may block. As in Go,
// Range need not reflect a consistent snapshot with respect to concurrent
// writers... here it happens to (the copy is taken from one snapshot).
//
// Memory ordering: a Store(k, v) (or LoadOrStore that stores) happens before
// any Load/LoadOrStore/LoadAndDelete/Range that observes v, for
// ThreadSanitizer too; in Go's terms, writes synchronize before the reads
// that observe them.
//
// K: hashable with absl::Hash and equality comparable; copyable. V:
// copyable. A Map must not be destroyed while other goroutines use it.
#ifndef GO_RUNTIME_SYNC_MAP_H_
#define GO_RUNTIME_SYNC_MAP_H_

#include <atomic>
#include <cstddef>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/hash/hash.h"
#include "runtime/sync/internal/lock.h"
#include "runtime/sync/internal/read_section.h"
#include "runtime/sync/mutex.h"

namespace go::sync {

template <typename K, typename V>
class Map {
 public:
  Map() : read_(new ReadOnly{new Table(), false}) {}
  Map(const Map&) = delete;
  Map& operator=(const Map&) = delete;
  ~Map();

  // Load returns the value stored for key, or nullopt.
  std::optional<V> Load(const K& key) {
    std::optional<V> out;
    {
      internal::ReadSection rs;
      Entry* e = Find(key, /*count_miss=*/true);
      if (e) out = e->Load();
    }
    return out;
  }

  // Store sets the value for key.
  void Store(const K& key, V value) {
    Swap(key, std::move(value));
  }

  // Swap stores value for key and returns the previous value, if any.
  std::optional<V> Swap(const K& key, V value);

  // LoadOrStore returns (existing value, true) if key is present; otherwise
  // it stores value and returns (value, false).
  std::pair<V, bool> LoadOrStore(const K& key, V value);

  // LoadAndDelete deletes key, returning its previous value if it had one.
  std::optional<V> LoadAndDelete(const K& key);

  // Delete deletes the value for key.
  void Delete(const K& key) { LoadAndDelete(key); }

  // Range calls f for each key and value, in no particular order, until f
  // returns false. f runs on a copy (see above), so it may use the Map.
  void Range(absl::FunctionRef<bool(const K&, const V&)> f);

 private:
  // --- entries ---------------------------------------------------------
  // p: the boxed value; null: deleted (the key may still be in the read
  // map, and in dirty_ if there is one); Expunged(): deleted and not in
  // dirty_ (which then exists).
  struct Entry {
    explicit Entry(V* v) : p(v) {}
    std::atomic<V*> p;

    std::optional<V> Load() const {
      V* v = p.load(std::memory_order_acquire);
      if (v == nullptr || v == Expunged()) return std::nullopt;
      return *v;
    }
  };
  static V* Expunged() {
    // Any unique address: never dereferenced.
    alignas(V) static char marker;
    return reinterpret_cast<V*>(&marker);
  }

  // std::unordered_map rather than absl::flat_hash_map: in debug builds the
  // latter randomizes insertion with a thread_local, and a goroutine touching
  // its M thread's TLS is a false race to ThreadSanitizer (fibers are not
  // ordered after the thread's TLS initialization).
  using Table = std::unordered_map<K, Entry*, absl::Hash<K>>;
  // An immutable snapshot. `amended`: dirty_ holds keys that m lacks.
  // Several snapshots may share one table (amending copies only this).
  struct ReadOnly {
    Table* m;
    bool amended;
  };

  // Under a ReadSection: the key's entry, from the snapshot or (locking)
  // from dirty_; null if absent.
  Entry* Find(const K& key, bool count_miss);

  // Slow paths under mu_ (Go's missLocked, dirtyLocked, ...).
  void MissLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PromoteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DirtyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AmendLocked(ReadOnly* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Deferred freeing: Retire* queue an unlinked object; Reclaim (called
  // outside any ReadSection and lock) frees a full batch after a grace
  // period.
  template <typename T>
  void Retire(T* p) {
    internal::LockGuard l(retire_lock_);
    retired_.push_back({p, [](void* x) { delete static_cast<T*>(x); }});
  }
  void RetireEntry(Entry* e) {
    internal::LockGuard l(retire_lock_);
    retired_.push_back({e, [](void* x) {
                          auto* en = static_cast<Entry*>(x);
                          V* v = en->p.load(std::memory_order_relaxed);
                          if (v != nullptr && v != Expunged()) delete v;
                          delete en;
                        }});
  }
  void Reclaim();

  struct Retired {
    void* p;
    void (*free)(void*);
  };
  static constexpr size_t kRetireBatch = 64;

  std::atomic<ReadOnly*> read_;
  Mutex mu_;
  Table* dirty_ ABSL_GUARDED_BY(mu_) = nullptr;
  size_t misses_ ABSL_GUARDED_BY(mu_) = 0;
  internal::Lock retire_lock_;
  std::vector<Retired> retired_ ABSL_GUARDED_BY(retire_lock_);
};

// --- implementation -----------------------------------------------------------
//
// Invariants (Go's):
//   [dirty]    If dirty_ is non-null it holds every key of the snapshot
//              whose entry is not expunged, plus the amended keys; entries
//              are shared (the same Entry*) between the two.
//   [expunged] An entry is expunged only while dirty_ exists and lacks it;
//              un-expunging (under mu_) adds it back to dirty_ first.
//   [unlinked] An object is retired only once no snapshot or table that a
//              new reader can reach refers to it: old snapshots when
//              read_ is replaced, their table and expunged entries on
//              promotion, replaced values when swapped out, entries removed
//              from dirty_ (which no snapshot had).

template <typename K, typename V>
Map<K, V>::~Map() {
  // No concurrent users: free everything directly.
  ReadOnly* r = read_.load(std::memory_order_acquire);
  std::unordered_set<Entry*> entries;
  for (auto& [k, e] : *r->m) entries.insert(e);
  if (dirty_) {
    for (auto& [k, e] : *dirty_) entries.insert(e);
    delete dirty_;
  }
  for (Entry* e : entries) {
    V* v = e->p.load(std::memory_order_relaxed);
    if (v != nullptr && v != Expunged()) delete v;
    delete e;
  }
  delete r->m;
  delete r;
  for (const Retired& x : retired_) x.free(x.p);
}

template <typename K, typename V>
typename Map<K, V>::Entry* Map<K, V>::Find(const K& key, bool count_miss) {
  ReadOnly* r = read_.load(std::memory_order_acquire);
  if (auto it = r->m->find(key); it != r->m->end()) return it->second;
  if (!r->amended) return nullptr;
  std::lock_guard<Mutex> l(mu_);
  // Re-check: the snapshot may have been replaced while we waited.
  r = read_.load(std::memory_order_acquire);
  if (auto it = r->m->find(key); it != r->m->end()) return it->second;
  if (!r->amended) return nullptr;
  Entry* e = nullptr;
  if (auto it = dirty_->find(key); it != dirty_->end()) e = it->second;
  // Count the miss whether or not dirty_ has it: the key takes the slow path
  // until dirty_ is promoted.
  if (count_miss) MissLocked();
  return e;
}

template <typename K, typename V>
void Map<K, V>::MissLocked() {
  if (++misses_ < dirty_->size()) return;
  PromoteLocked();
}

template <typename K, typename V>
void Map<K, V>::PromoteLocked() {
  ReadOnly* old = read_.load(std::memory_order_relaxed);
  read_.store(new ReadOnly{dirty_, false}, std::memory_order_release);
  // The old table's expunged entries are in no table now [expunged]; the
  // others live on in the new snapshot [dirty].
  for (auto& [k, e] : *old->m) {
    if (e->p.load(std::memory_order_relaxed) == Expunged()) RetireEntry(e);
  }
  Retire(old->m);
  Retire(old);
  dirty_ = nullptr;
  misses_ = 0;
}

template <typename K, typename V>
void Map<K, V>::DirtyLocked() {
  if (dirty_) return;
  ReadOnly* r = read_.load(std::memory_order_relaxed);
  dirty_ = new Table();
  dirty_->reserve(r->m->size());
  for (auto& [k, e] : *r->m) {
    // Expunge deleted entries instead of copying them [expunged].
    V* v = e->p.load(std::memory_order_acquire);
    while (v == nullptr) {
      if (e->p.compare_exchange_weak(v, Expunged(), std::memory_order_acq_rel)) {
        v = Expunged();
        break;
      }
    }
    if (v != Expunged()) dirty_->emplace(k, e);
  }
}

template <typename K, typename V>
void Map<K, V>::AmendLocked(ReadOnly* r) {
  // The first new key for dirty_: make sure it exists, and mark the
  // snapshot incomplete (a new shell around the same table).
  DirtyLocked();
  read_.store(new ReadOnly{r->m, true}, std::memory_order_release);
  Retire(r);
}

template <typename K, typename V>
std::optional<V> Map<K, V>::Swap(const K& key, V value) {
  V* nv = new V(std::move(value));
  std::optional<V> prev;
  {
    internal::ReadSection rs;
    ReadOnly* r = read_.load(std::memory_order_acquire);
    bool done = false;
    if (auto it = r->m->find(key); it != r->m->end()) {
      // Lock-free: swap the value of an entry the snapshot holds, unless it
      // is expunged (then dirty_ lacks it and we must add it under mu_).
      Entry* e = it->second;
      V* p = e->p.load(std::memory_order_acquire);
      while (p != Expunged()) {
        if (e->p.compare_exchange_weak(p, nv, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
          done = true;
          break;
        }
      }
      if (done && p != nullptr) {
        prev = *p;
        Retire(p);
      }
    }
    if (!done) {
      std::lock_guard<Mutex> l(mu_);
      r = read_.load(std::memory_order_acquire);
      V* old = nullptr;
      if (auto it = r->m->find(key); it != r->m->end()) {
        Entry* e = it->second;
        V* expunged = Expunged();
        if (e->p.compare_exchange_strong(expunged, nullptr, std::memory_order_acq_rel)) {
          dirty_->emplace(key, e);  // un-expunge: back into dirty_ first [expunged]
        }
        old = e->p.exchange(nv, std::memory_order_acq_rel);
      } else if (dirty_ && dirty_->contains(key)) {
        old = (*dirty_)[key]->p.exchange(nv, std::memory_order_acq_rel);
      } else {
        if (!r->amended) AmendLocked(r);
        dirty_->emplace(key, new Entry(nv));
      }
      if (old != nullptr) {
        prev = *old;
        Retire(old);
      }
    }
  }
  Reclaim();
  return prev;
}

template <typename K, typename V>
std::pair<V, bool> Map<K, V>::LoadOrStore(const K& key, V value) {
  // Go's tryLoadOrStore: (loaded value or nothing, stored?) on one entry;
  // nullopt result means the entry is expunged.
  auto try_entry = [](Entry* e, V** nv, const V& v) -> std::optional<std::pair<V, bool>> {
    V* p = e->p.load(std::memory_order_acquire);
    for (;;) {
      if (p == Expunged()) return std::nullopt;
      if (p != nullptr) return std::pair<V, bool>(*p, true);
      if (!*nv) *nv = new V(v);
      if (e->p.compare_exchange_weak(p, *nv, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
        *nv = nullptr;  // now owned by the entry
        return std::pair<V, bool>(v, false);
      }
    }
  };
  V* nv = nullptr;
  std::optional<std::pair<V, bool>> result;
  {
    internal::ReadSection rs;
    ReadOnly* r = read_.load(std::memory_order_acquire);
    if (auto it = r->m->find(key); it != r->m->end()) result = try_entry(it->second, &nv, value);
    if (!result) {
      std::lock_guard<Mutex> l(mu_);
      r = read_.load(std::memory_order_acquire);
      if (auto it = r->m->find(key); it != r->m->end()) {
        Entry* e = it->second;
        V* expunged = Expunged();
        if (e->p.compare_exchange_strong(expunged, nullptr, std::memory_order_acq_rel)) {
          dirty_->emplace(key, e);
        }
        result = try_entry(e, &nv, value);
      } else if (dirty_ && dirty_->contains(key)) {
        result = try_entry((*dirty_)[key], &nv, value);
        MissLocked();
      } else {
        if (!r->amended) AmendLocked(r);
        if (!nv) nv = new V(value);
        dirty_->emplace(key, new Entry(nv));
        nv = nullptr;
        result = std::pair<V, bool>(std::move(value), false);
      }
    }
  }
  delete nv;  // made for a store that lost to another one
  Reclaim();
  return *std::move(result);
}

template <typename K, typename V>
std::optional<V> Map<K, V>::LoadAndDelete(const K& key) {
  std::optional<V> prev;
  {
    internal::ReadSection rs;
    Entry* e = nullptr;
    ReadOnly* r = read_.load(std::memory_order_acquire);
    if (auto it = r->m->find(key); it != r->m->end()) {
      e = it->second;
    } else if (r->amended) {
      std::lock_guard<Mutex> l(mu_);
      r = read_.load(std::memory_order_acquire);
      if (auto it = r->m->find(key); it != r->m->end()) {
        e = it->second;
      } else if (r->amended) {
        if (auto it = dirty_->find(key); it != dirty_->end()) {
          e = it->second;
          dirty_->erase(it);
          RetireEntry(e);  // in no table now [unlinked]; we still use it below
        }
        MissLocked();
      }
    }
    if (e) {
      V* p = e->p.load(std::memory_order_acquire);
      while (p != nullptr && p != Expunged()) {
        if (e->p.compare_exchange_weak(p, nullptr, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
          prev = *p;
          Retire(p);
          break;
        }
      }
    }
  }
  Reclaim();
  return prev;
}

template <typename K, typename V>
void Map<K, V>::Range(absl::FunctionRef<bool(const K&, const V&)> f) {
  std::vector<std::pair<K, V>> items;
  {
    internal::ReadSection rs;
    ReadOnly* r = read_.load(std::memory_order_acquire);
    if (r->amended) {
      // Promote first so that one table holds every key (Go does the same:
      // Range is O(n) anyway).
      std::lock_guard<Mutex> l(mu_);
      r = read_.load(std::memory_order_acquire);
      if (r->amended) {
        PromoteLocked();
        r = read_.load(std::memory_order_relaxed);
      }
    }
    items.reserve(r->m->size());
    for (auto& [k, e] : *r->m) {
      V* v = e->p.load(std::memory_order_acquire);
      if (v != nullptr && v != Expunged()) items.emplace_back(k, *v);
    }
  }
  Reclaim();
  for (const auto& [k, v] : items) {
    if (!f(k, v)) break;
  }
}

template <typename K, typename V>
void Map<K, V>::Reclaim() {
  std::vector<Retired> batch;
  {
    internal::LockGuard l(retire_lock_);
    if (retired_.size() < kRetireBatch) return;
    batch.swap(retired_);
  }
  internal::SynchronizeReaders();
  for (const Retired& x : batch) x.free(x.p);
}

}  // namespace go::sync

#endif  // GO_RUNTIME_SYNC_MAP_H_
