// sync.Pool internals: per-P caches, lock-free chains, victim aging (pool.h).
//
// Invariants:
//   [owner]   Only goroutines running on P i push to or pop from the head of
//             P i's chains, and only they load/store P i's primary private
//             slot; scheduling is cooperative and Get/Put never yield, so at
//             most one of them is inside at a time (a single producer).
//   [take]    Everyone else (other Ps, threads, the cleanup, ~PoolCore) only
//             *takes*: PopTail on chains, exchange(nullptr) on private slots.
//             An object is owned by exactly one place at a time: a slot, a
//             chain position claimed by one CAS, or the caller that took it.
//   [gen]     Only the cleanup changes gen_, with the registry lock held, and
//             only after emptying the victim set; so the set that becomes
//             primary starts empty (up to Puts racing with the flip, which
//             may land in either set).
//   [ring]    In a PoolDequeue, positions [tail, head) hold published
//             objects; a slot is null whenever no object is in it and no
//             consumer is still reading it, so the producer reuses a slot
//             only after its last consumer has let go.
//   [memory]  Dequeues are freed only by ~PoolChain: a consumer may still
//             look at a dequeue after it was unlinked. A chain never makes
//             more than 14 of them (8 .. 65536 slots, doubling), so this
//             costs at most ~1 MB per chain.
#include "runtime/sync/pool.h"

#include "runtime/sched/sched.h"

namespace go::sync::internal {

// --- PoolDequeue: a fixed-size single-producer, multi-consumer ring -------

class PoolDequeue {
 public:
  explicit PoolDequeue(uint32_t size) : size_(size), vals_(new std::atomic<void*>[size]()) {}

  uint32_t size() const { return size_; }

  // Producer: adds x at the head; false if full.
  bool PushHead(void* x) {
    const uint64_t ptrs = head_tail_.load(std::memory_order_acquire);
    const uint32_t head = Head(ptrs), tail = Tail(ptrs);
    if (tail + size_ == head) return false;  // full (indexes wrap mod 2^32)
    std::atomic<void*>& slot = vals_[head & (size_ - 1)];
    // A consumer of the previous lap may still be reading this slot [ring].
    if (slot.load(std::memory_order_acquire) != nullptr) return false;
    slot.store(x, std::memory_order_relaxed);
    // Publishes the slot to consumers (release) and hands it over.
    head_tail_.fetch_add(uint64_t{1} << 32, std::memory_order_release);
    return true;
  }

  // Producer: removes the newest object; null if empty.
  void* PopHead() {
    uint64_t ptrs = head_tail_.load(std::memory_order_acquire);
    uint32_t head;
    for (;;) {
      head = Head(ptrs);
      if (head == Tail(ptrs)) return nullptr;
      // Claim the slot before reading it: a consumer may race for it.
      if (head_tail_.compare_exchange_weak(ptrs, Pack(head - 1, Tail(ptrs)),
                                           std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
        break;
      }
    }
    std::atomic<void*>& slot = vals_[(head - 1) & (size_ - 1)];
    void* x = slot.load(std::memory_order_acquire);
    slot.store(nullptr, std::memory_order_relaxed);  // no consumer can hold it
    return x;
  }

  // Any consumer: removes the oldest object; null if empty.
  void* PopTail() {
    uint64_t ptrs = head_tail_.load(std::memory_order_acquire);
    uint32_t tail;
    for (;;) {
      tail = Tail(ptrs);
      if (Head(ptrs) == tail) return nullptr;
      if (head_tail_.compare_exchange_weak(ptrs, Pack(Head(ptrs), tail + 1),
                                           std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
        break;
      }
    }
    std::atomic<void*>& slot = vals_[tail & (size_ - 1)];
    void* x = slot.load(std::memory_order_acquire);
    // Let the producer reuse the slot [ring]; release orders our read first.
    slot.store(nullptr, std::memory_order_release);
    return x;
  }

  std::atomic<PoolDequeue*> next{nullptr};  // newer dequeue (toward the head)
  std::atomic<PoolDequeue*> prev{nullptr};  // older dequeue (toward the tail)
  PoolDequeue* all_next = nullptr;          // PoolChain::all_ list

 private:
  static uint32_t Head(uint64_t ptrs) { return static_cast<uint32_t>(ptrs >> 32); }
  static uint32_t Tail(uint64_t ptrs) { return static_cast<uint32_t>(ptrs); }
  static uint64_t Pack(uint32_t head, uint32_t tail) {
    return (static_cast<uint64_t>(head) << 32) | tail;
  }

  // head (next slot to fill) in the high half, tail (oldest object) low.
  std::atomic<uint64_t> head_tail_{0};
  const uint32_t size_;  // a power of two
  std::unique_ptr<std::atomic<void*>[]> vals_;
};

// --- PoolChain -----------------------------------------------------------------

namespace {
constexpr uint32_t kFirstDequeue = 8;
constexpr uint32_t kMaxDequeue = 1 << 16;
}  // namespace

PoolChain::~PoolChain() {
  for (PoolDequeue* d = all_.load(std::memory_order_acquire); d;) {
    PoolDequeue* next = d->all_next;
    delete d;
    d = next;
  }
}

bool PoolChain::PushHead(void* x) {
  PoolDequeue* d = head_.load(std::memory_order_acquire);
  auto make = [this](uint32_t size) {
    auto* n = new PoolDequeue(size);
    n->all_next = all_.load(std::memory_order_acquire);
    all_.store(n, std::memory_order_release);
    return n;
  };
  if (!d) {
    d = make(kFirstDequeue);
    head_.store(d, std::memory_order_release);
    tail_.store(d, std::memory_order_release);
  }
  if (d->PushHead(x)) return true;
  if (d->size() >= kMaxDequeue) return false;  // bounded memory [memory]
  // The head is full: a new one of twice the size. Older objects stay in d
  // for consumers (and for our PopHead, which walks back through prev).
  PoolDequeue* d2 = make(d->size() * 2);
  d2->prev.store(d, std::memory_order_relaxed);
  head_.store(d2, std::memory_order_release);
  d->next.store(d2, std::memory_order_release);
  return d2->PushHead(x);  // empty: cannot fail
}

void* PoolChain::PopHead() {
  for (PoolDequeue* d = head_.load(std::memory_order_acquire); d;
       d = d->prev.load(std::memory_order_acquire)) {
    if (void* x = d->PopHead()) return x;
    // There may still be objects in the previous dequeue: back up.
  }
  return nullptr;
}

void* PoolChain::PopTail() {
  PoolDequeue* d = tail_.load(std::memory_order_acquire);
  if (!d) return nullptr;
  for (;;) {
    // Load next *before* popping: if d is empty and already had a successor,
    // the producer has moved on and d can never refill, so it may be dropped
    // from the chain. (d may be empty only transiently otherwise.)
    PoolDequeue* d2 = d->next.load(std::memory_order_acquire);
    if (void* x = d->PopTail()) return x;
    if (!d2) return nullptr;  // the only dequeue: empty right now
    PoolDequeue* expected = d;
    if (tail_.compare_exchange_strong(expected, d2, std::memory_order_acq_rel)) {
      // We unlinked d; stop PopHead from backing up into it. d itself stays
      // allocated until the chain dies [memory].
      d2->prev.store(nullptr, std::memory_order_release);
    }
    d = d2;
  }
}

// --- PoolCore --------------------------------------------------------------------

struct alignas(128) PoolCore::Local {
  std::atomic<void*> priv[2] = {};  // [gen & 1]: private slot per set
  PoolChain shared[2];              // [gen & 1]: shared chain per set
};

namespace {

constexpr int64_t kCleanupPeriodNs = int64_t{2} * 1000 * 1000 * 1000;  // 2 s (pool.h)

}  // namespace

// Every pool that ever held an object, for the periodic cleanup.
struct PoolRegistry {
  Lock lock;
  PoolCore* head ABSL_GUARDED_BY(lock) = nullptr;
  bool periodic ABSL_GUARDED_BY(lock) = false;  // cleanup registered with sysmon
  std::atomic<int> paused{0};

  static PoolRegistry& Get() {
    static PoolRegistry* r = new PoolRegistry;  // never destroyed: sysmon outlives main
    return *r;
  }

  // One cleanup of every registered pool; objects are destroyed after the
  // registry lock is released (a T's destructor may itself own a Pool).
  void CleanupAll(bool forced) {
    struct Dropped {
      void* x;
      void (*destroy)(void*);
    };
    std::vector<Dropped> dropped;
    {
      LockGuard l(lock);
      if (!forced && paused.load(std::memory_order_relaxed) > 0) return;
      std::vector<void*> d;
      for (PoolCore* p = head; p; p = p->reg_next_) {
        d.clear();
        p->Age(&d);
        for (void* x : d) dropped.push_back({x, p->destroy_});
      }
    }
    for (const Dropped& d : dropped) d.destroy(d.x);
  }
};

PoolCore::PoolCore(void (*destroy)(void*))
    : destroy_(destroy), locals_(new std::atomic<Local*>[sched::NumProcSlots()]()) {}

PoolCore::~PoolCore() {
  if (registered_.load(std::memory_order_acquire)) {
    PoolRegistry& r = PoolRegistry::Get();
    LockGuard l(r.lock);
    (reg_prev_ ? reg_prev_->reg_next_ : r.head) = reg_next_;
    if (reg_next_) reg_next_->reg_prev_ = reg_prev_;
  }
  // No other users by now (the caller's contract); the cleanup cannot see us.
  const int n = nlocals_.load(std::memory_order_acquire);
  for (int i = 0; i < n; i++) {
    Local* l = locals_[i].load(std::memory_order_acquire);
    if (!l) continue;
    for (int k = 0; k < 2; k++) {
      if (void* x = l->priv[k].exchange(nullptr, std::memory_order_acq_rel)) destroy_(x);
      while (void* x = l->shared[k].PopTail()) destroy_(x);
    }
    delete l;
  }
  LockGuard l(locked_.lock);
  for (auto& items : locked_.items) {
    for (void* x : items) destroy_(x);
  }
}

void PoolCore::Register() {
  PoolRegistry& r = PoolRegistry::Get();
  bool start_periodic = false;
  {
    LockGuard l(r.lock);
    if (registered_.load(std::memory_order_relaxed)) return;
    reg_next_ = r.head;
    if (r.head) r.head->reg_prev_ = this;
    r.head = this;
    registered_.store(true, std::memory_order_release);
    start_periodic = !r.periodic;
    r.periodic = true;
  }
  if (start_periodic) {
    sched::RegisterPeriodic([] { PoolRegistry::Get().CleanupAll(false); }, kCleanupPeriodNs);
  }
}

PoolCore::Local* PoolCore::NewLocal(int pid) {
  Local* l = new Local;
  // Only P pid installs its own Local [owner]; release publishes it to
  // thieves and the cleanup.
  locals_[pid].store(l, std::memory_order_release);
  int n = nlocals_.load(std::memory_order_relaxed);
  while (n < pid + 1 &&
         !nlocals_.compare_exchange_weak(n, pid + 1, std::memory_order_acq_rel)) {
  }
  return l;
}

PoolCore::Local* PoolCore::LocalFor(int pid) {
  Local* l = locals_[pid].load(std::memory_order_acquire);
  return l ? l : NewLocal(pid);
}

void PoolCore::Put(void* x) {
  if (!registered_.load(std::memory_order_acquire)) Register();
  const int pid = sched::CurrentP();
  const int cur = static_cast<int>(gen_.load(std::memory_order_relaxed) & 1);
  if (pid < 0) {
    // No P (a plain thread, or a synctest bubble): the shared locked list.
    LockGuard l(locked_.lock);
    locked_.items[cur].push_back(x);
    locked_count_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Local* l = LocalFor(pid);
  // The private slot: only this P stores into it [owner]; others only take,
  // so a null seen here stays null until our store.
  if (l->priv[cur].load(std::memory_order_relaxed) == nullptr) {
    l->priv[cur].store(x, std::memory_order_release);
    return;
  }
  if (!l->shared[cur].PushHead(x)) destroy_(x);  // chain full: drop it
}

void* PoolCore::Get() {
  const int pid = sched::CurrentP();
  const int cur = static_cast<int>(gen_.load(std::memory_order_relaxed) & 1);
  if (pid >= 0) {
    if (Local* l = locals_[pid].load(std::memory_order_acquire)) {
      // Exchange, not load+store: the cleanup may take the slot at the same
      // time if our generation is stale [take].
      if (l->priv[cur].load(std::memory_order_relaxed) != nullptr) {
        if (void* x = l->priv[cur].exchange(nullptr, std::memory_order_acq_rel)) return x;
      }
      // Our own chain's head: the most recently Put, likely still in cache.
      if (void* x = l->shared[cur].PopHead()) return x;
    }
  }
  return GetSlow(pid, cur);
}

void* PoolCore::GetLocked(int gen) {
  LockGuard l(locked_.lock);
  auto& items = locked_.items[gen];
  if (items.empty()) return nullptr;
  void* x = items.back();
  items.pop_back();
  locked_count_.fetch_sub(1, std::memory_order_relaxed);
  return x;
}

void* PoolCore::GetSlow(int pid, int cur) {
  const int n = nlocals_.load(std::memory_order_acquire);
  const int start = pid >= 0 ? pid + 1 : 0;
  // Steal from the other Ps' primary chains (oldest first).
  for (int i = 0; i < n; i++) {
    const int j = (start + i) % n;
    if (j == pid) continue;
    Local* o = locals_[j].load(std::memory_order_acquire);
    if (o) {
      if (void* x = o->shared[cur].PopTail()) return x;
    }
  }
  if (locked_count_.load(std::memory_order_relaxed) > 0) {
    if (void* x = GetLocked(cur)) return x;
  }
  // The victim cache, after all primaries, so that victims age out when the
  // primaries suffice.
  if (victim_empty_.load(std::memory_order_relaxed)) return nullptr;
  const int victim = cur ^ 1;
  for (int i = 0; i < n; i++) {
    const int j = (start + i) % n;
    Local* o = locals_[j].load(std::memory_order_acquire);
    if (!o) continue;
    if (void* x = o->priv[victim].exchange(nullptr, std::memory_order_acq_rel)) return x;
    if (void* x = o->shared[victim].PopTail()) return x;
  }
  if (locked_count_.load(std::memory_order_relaxed) > 0) {
    if (void* x = GetLocked(victim)) return x;
  }
  // Nothing there: later Gets need not look until the next cleanup.
  victim_empty_.store(true, std::memory_order_relaxed);
  return nullptr;
}

void PoolCore::Age(std::vector<void*>* dropped) {
  const uint32_t g = gen_.load(std::memory_order_relaxed);
  const int victim = static_cast<int>((g + 1) & 1);
  const int n = nlocals_.load(std::memory_order_acquire);
  // Take the whole victim set [take].
  for (int i = 0; i < n; i++) {
    Local* l = locals_[i].load(std::memory_order_acquire);
    if (!l) continue;
    if (void* x = l->priv[victim].exchange(nullptr, std::memory_order_acq_rel)) {
      dropped->push_back(x);
    }
    while (void* x = l->shared[victim].PopTail()) dropped->push_back(x);
  }
  {
    LockGuard l(locked_.lock);
    auto& items = locked_.items[victim];
    dropped->insert(dropped->end(), items.begin(), items.end());
    locked_count_.fetch_sub(static_cast<int>(items.size()), std::memory_order_relaxed);
    items.clear();
  }
  // Flip [gen]: the primary becomes the victim, the emptied set the primary.
  gen_.store(g + 1, std::memory_order_release);
  victim_empty_.store(false, std::memory_order_relaxed);
}

void PoolCore::CleanupAllForTesting() { PoolRegistry::Get().CleanupAll(true); }

void PoolCore::PausePeriodicCleanupForTesting(bool pause) {
  PoolRegistry::Get().paused.fetch_add(pause ? 1 : -1, std::memory_order_relaxed);
}

}  // namespace go::sync::internal
