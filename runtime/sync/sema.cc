// The runtime semaphore table and the notify list (see sema.h).
//
// Invariants (each bucket, under its lock):
//   [tree]   The treap holds exactly one node per address with waiters: the
//            head of that address's wait list. It is a binary search tree on
//            the address and a min-heap on `priority`.
//   [list]   A head's `next` chain lists the address's other waiters in wake
//            order; the head's `tail` points at the last of them (null when
//            the head is alone). Non-heads have null tree links and tail.
//   [nwait]  nwait >= the number of queued waiters. It is incremented before
//            a waiter's last check of the count, so a Semrelease that adds to
//            the count after that check sees nwait > 0 and looks for it; it
//            is decremented when a waiter is dequeued (or gives up queueing).
//   [owner]  A dequeued waiter is touched only by the releaser that dequeued
//            it, and only until that releaser calls Ready: after Ready the
//            waiter's stack frame may be gone.
#include "runtime/sync/sema.h"

#include "runtime/sched/sanitizers.h"
#include "runtime/sched/sched.h"

namespace go::sync::internal {

struct SemaWaiter {
  sched::G* g = nullptr;
  const void* addr = nullptr;
  // Treap links, valid while this waiter heads its address's list [tree].
  SemaWaiter* parent = nullptr;
  SemaWaiter* left = nullptr;
  SemaWaiter* right = nullptr;
  uint32_t priority = 0;
  // Wait list [list].
  SemaWaiter* next = nullptr;
  SemaWaiter* tail = nullptr;
  // Set by a hand-off Semrelease before Ready: the waiter owns one unit.
  bool handoff = false;
};

namespace {

// A prime, so that the bucket does not correlate with allocation patterns.
constexpr size_t kTableSize = 251;

struct alignas(64) Root {
  Lock lock;
  SemaWaiter* treap ABSL_GUARDED_BY(lock) = nullptr;
  uint32_t rng ABSL_GUARDED_BY(lock) = 0x9e3779b9u;  // treap priorities
  std::atomic<uint32_t> nwait{0};                    // [nwait], read without the lock

  uint32_t NextPriority() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
    // xorshift32: only needs to be balanced, not unpredictable. A private
    // generator keeps a bubble's seeded random stream out of it.
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng | 1;
  }

  // Turns (x a (y b c)) into (y (x a b) c).
  void RotateLeft(SemaWaiter* x) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
    SemaWaiter* p = x->parent;
    SemaWaiter* y = x->right;
    SemaWaiter* b = y->left;
    y->left = x;
    x->parent = y;
    x->right = b;
    if (b) b->parent = x;
    Replace(p, x, y);
  }

  // Turns (y (x a b) c) into (x a (y b c)).
  void RotateRight(SemaWaiter* y) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
    SemaWaiter* p = y->parent;
    SemaWaiter* x = y->left;
    SemaWaiter* b = x->right;
    x->right = y;
    y->parent = x;
    y->left = b;
    if (b) b->parent = y;
    Replace(p, y, x);
  }

  // Makes `now` take `was`'s place under parent p (or at the root).
  void Replace(SemaWaiter* p, SemaWaiter* was, SemaWaiter* now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
    now->parent = p;
    if (!p) {
      treap = now;
    } else if (p->left == was) {
      p->left = now;
    } else {
      p->right = now;
    }
  }

  // Puts s in head's tree position (s becomes the address's head).
  void TakeTreePlace(SemaWaiter* s, SemaWaiter* head) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
    s->priority = head->priority;
    s->left = head->left;
    s->right = head->right;
    if (s->left) s->left->parent = s;
    if (s->right) s->right->parent = s;
    Replace(head->parent, head, s);
  }

  void Queue(const void* addr, SemaWaiter* s, bool lifo) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
    s->addr = addr;
    s->parent = s->left = s->right = nullptr;
    s->next = s->tail = nullptr;
    SemaWaiter* last = nullptr;
    SemaWaiter** pt = &treap;
    for (SemaWaiter* t = *pt; t; t = *pt) {
      if (t->addr == addr) {
        if (lifo) {
          // s becomes the head; the old head is first in its list.
          TakeTreePlace(s, t);
          s->next = t;
          s->tail = t->tail ? t->tail : t;
          t->parent = t->left = t->right = nullptr;
          t->tail = nullptr;
        } else {
          (t->tail ? t->tail->next : t->next) = s;
          t->tail = s;
        }
        return;
      }
      last = t;
      pt = reinterpret_cast<uintptr_t>(addr) < reinterpret_cast<uintptr_t>(t->addr) ? &t->left
                                                                                      : &t->right;
    }
    // A new address: a leaf, rotated up to restore the heap order [tree].
    s->priority = NextPriority();
    s->parent = last;
    *pt = s;
    while (s->parent && s->parent->priority > s->priority) {
      if (s->parent->left == s) {
        RotateRight(s->parent);
      } else {
        RotateLeft(s->parent);
      }
    }
  }

  SemaWaiter* Find(const void* addr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
    SemaWaiter* s = treap;
    while (s && s->addr != addr) {
      s = reinterpret_cast<uintptr_t>(addr) < reinterpret_cast<uintptr_t>(s->addr) ? s->left
                                                                                    : s->right;
    }
    return s;
  }

  // Removes and returns the first waiter on addr, or null.
  SemaWaiter* Dequeue(const void* addr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock) {
    SemaWaiter* s = Find(addr);
    if (!s) return nullptr;
    if (SemaWaiter* t = s->next) {
      // The next waiter inherits the head's place and list [list].
      TakeTreePlace(t, s);
      t->tail = t->next ? s->tail : nullptr;
    } else {
      // Rotate s down to a leaf, respecting priorities, then cut it off.
      while (s->left || s->right) {
        if (!s->right || (s->left && s->left->priority < s->right->priority)) {
          RotateRight(s);
        } else {
          RotateLeft(s);
        }
      }
      if (!s->parent) {
        treap = nullptr;
      } else if (s->parent->left == s) {
        s->parent->left = nullptr;
      } else {
        s->parent->right = nullptr;
      }
    }
    s->parent = s->left = s->right = s->next = s->tail = nullptr;
    s->addr = nullptr;
    return s;
  }
};

Root g_table[kTableSize];

Root* RootFor(const void* addr) {
  return &g_table[(reinterpret_cast<uintptr_t>(addr) >> 3) % kTableSize];
}

// Takes one unit if there is one.
bool CanAcquire(std::atomic<uint32_t>* sema) {
  uint32_t v = sema->load(std::memory_order_seq_cst);
  while (v != 0) {
    if (sema->compare_exchange_weak(v, v - 1, std::memory_order_seq_cst)) return true;
  }
  return false;
}

// Park commit: the waiter is queued and fully parked; now let wakers in.
//
// ThreadSanitizer detail. The scheduler runs commits with TSan's current
// fiber set to the parking goroutine's, and switches back to its own fiber
// only after the commit returns. But the moment the lock is released, a
// waker may Ready g and another thread may resume it, switching to g's fiber
// while it is still current here: TSan then aborts ("CHECK failed: ...
// thr->proc1 == nullptr") or mixes up the two threads' histories. So, under
// TSan, the commit (1) publishes g's history to the lock's next holder while
// still on g's fiber, (2) leaves g's fiber for the scheduler's, and only then
// (3) unlocks, uninstrumented (the scheduler's fiber has no history with the
// lock; the next holder synchronizes through step 1). The commit itself is
// uninstrumented too: an instrumented function would be entered on one
// fiber and left on another, and TSan keeps a shadow call stack per fiber.
#ifdef GO_TSAN
__attribute__((no_sanitize("thread")))
#endif
bool UnlockCommit(sched::G* g, void* arg) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  auto* lock = static_cast<Lock*>(arg);
#ifdef GO_TSAN
  lock->ReleaseForTsan();
  if (!g->is_thread && g->home != nullptr && __tsan_switch_to_fiber != nullptr) {
    __tsan_switch_to_fiber(g->home->tsan_fiber, 1 /* no sync */);
  }
  lock->UnlockUninstrumented();
#else
  (void)g;
  lock->unlock();
#endif
  return true;
}

}  // namespace

void Semacquire(std::atomic<uint32_t>* sema, bool lifo, sched::WaitReason reason,
                std::source_location where) {
  if (CanAcquire(sema)) return;  // easy case
  Root* root = RootFor(sema);
  SemaWaiter w;
  w.g = sched::CurrentG();
  for (;;) {
    root->lock.lock();
    // Count ourselves first [nwait], then look once more: a release that
    // lands after this check will see nwait > 0 and come to wake us.
    root->nwait.fetch_add(1, std::memory_order_seq_cst);
    if (CanAcquire(sema)) {
      root->nwait.fetch_sub(1, std::memory_order_seq_cst);
      root->lock.unlock();
      return;
    }
    root->Queue(sema, &w, lifo);
    sched::Park(&UnlockCommit, &root->lock, reason, where);
    // Woken (and dequeued) by a Semrelease [owner]. A hand-off gave us the
    // unit; otherwise compete for it like anyone else, and requeue (at the
    // position asked for) if a running goroutine got there first.
    if (w.handoff || CanAcquire(sema)) return;
  }
}

void Semrelease(std::atomic<uint32_t>* sema, bool handoff) {
  Root* root = RootFor(sema);
  sema->fetch_add(1, std::memory_order_seq_cst);
  // Easy case: nobody waits. This check must come after the increment (see
  // [nwait] and the loop in Semacquire).
  if (root->nwait.load(std::memory_order_seq_cst) == 0) return;
  root->lock.lock();
  if (root->nwait.load(std::memory_order_relaxed) == 0) {
    // Another releaser already dequeued the waiter our unit is meant for.
    root->lock.unlock();
    return;
  }
  SemaWaiter* w = root->Dequeue(sema);
  if (w) root->nwait.fetch_sub(1, std::memory_order_seq_cst);
  root->lock.unlock();
  if (!w) return;
  sched::G* g = w->g;
  const bool handed = handoff && CanAcquire(sema);
  w->handoff = handed;
  sched::Ready(g);  // w may be gone from here on [owner]
  if (handed && sched::InGoroutine()) {
    // Direct hand-off of the P too: Ready put the waiter in our P's runnext
    // slot; yielding runs it now and it inherits the rest of our time slice.
    // Only for hand-offs: otherwise a third goroutine could take the unit
    // while we yield, and the switch would be wasted.
    sched::Yield();
  }
}

size_t SemaWaiters(const std::atomic<uint32_t>* sema) {
  Root* root = RootFor(sema);
  LockGuard l(root->lock);
  size_t n = 0;
  for (SemaWaiter* s = root->Find(sema); s; s = s->next) n++;
  return n;
}

// --- NotifyList ------------------------------------------------------------

struct NotifyList::Waiter {
  sched::G* g;
  uint32_t ticket;
  Waiter* next;
};

namespace {

// a < b for running counters that may wrap, whose true distance is < 2^31.
bool Less(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

}  // namespace

void NotifyList::Wait(uint32_t ticket, sched::WaitReason reason, std::source_location where) {
  lock_.lock();
  if (Less(ticket, notify_.load(std::memory_order_relaxed))) {
    lock_.unlock();  // already notified
    return;
  }
  Waiter w{sched::CurrentG(), ticket, nullptr};
  (tail_ ? tail_->next : head_) = &w;
  tail_ = &w;
  sched::Park(&UnlockCommit, &lock_, reason, where);
}

void NotifyList::NotifyOne() {
  // Fast path: no tickets since the last notification, nothing to do.
  if (wait_.load(std::memory_order_seq_cst) == notify_.load(std::memory_order_seq_cst)) return;
  lock_.lock();
  const uint32_t t = notify_.load(std::memory_order_relaxed);
  if (t == wait_.load(std::memory_order_seq_cst)) {
    lock_.unlock();
    return;
  }
  notify_.store(t + 1, std::memory_order_seq_cst);
  // The holder of ticket t may not have queued yet; then it will see the new
  // notify_ in Wait and not sleep. Waiters queue nearly in ticket order, so
  // the scan stops early.
  for (Waiter *p = nullptr, *s = head_; s; p = s, s = s->next) {
    if (s->ticket == t) {
      (p ? p->next : head_) = s->next;
      if (!s->next) tail_ = p;
      lock_.unlock();
      sched::Ready(s->g);
      return;
    }
  }
  lock_.unlock();
}

void NotifyList::NotifyAll() {
  if (wait_.load(std::memory_order_seq_cst) == notify_.load(std::memory_order_seq_cst)) return;
  lock_.lock();
  Waiter* s = head_;
  head_ = tail_ = nullptr;
  // Every ticket handed out so far is now notified: those already queued are
  // in the list; later ones will see notify_ and not sleep.
  notify_.store(wait_.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
  lock_.unlock();
  while (s) {
    Waiter* next = s->next;  // read before Ready: s dies with its frame
    sched::Ready(s->g);
    s = next;
  }
}

}  // namespace go::sync::internal
