// The select protocol (Go's runtime/select.go selectgo, rewritten).
//
// Invariants, beyond those of chan_core.cc:
//   [S1] Channels are locked in ascending address order, each once however
//        many cases name it (lockorder is sorted, duplicates are adjacent).
//        Every multi-channel lock holder in the runtime is a select, so two
//        selects over the same channels cannot deadlock.
//   [S2] While parked, the select has exactly one waiter per non-nil case on
//        its channel's queue, all pointing at one SelectSync on its stack.
//        The first waker to flip SelectSync::done claims the select; every
//        other waker that finds one of its waiters drops it (WaitQ::Dequeue).
//        So exactly one case completes, and the G is Readied exactly once.
//   [S3] The park commit unlocks the channels in lock order and touches
//        nothing after the last unlock: from then on the select may resume,
//        finish pass 3 and return, freeing the stack frame that holds the
//        cases, the lock order and the waiters. (Before the last unlock it
//        cannot get past pass 3's locking, so the frame is stable.)
//   [S4] Pass 3 removes every losing waiter under its channel's lock, so no
//        waiter outlives the select; WaitQ::Remove tolerates a waiter that a
//        waker already dropped.
#include <algorithm>
#include <memory>

#include "runtime/chan/select.h"
#include "runtime/panic.h"
#include "runtime/sched/sched.h"

namespace go {
namespace chan_internal {

struct SelectCaseAccess {
  static RawCase Raw(const SelectCase& c) noexcept { return {c.ref_.get(), c.elem_, c.kind_}; }
  static void Reset(const SelectCase& c) noexcept {
    if (c.kind_ == CaseKind::kRecv && c.elem_ != nullptr && c.reset_ != nullptr) c.reset_(c.elem_);
  }
};

namespace {

// Locks every channel of lockorder[0, n) once, in order [S1].
void SelLock(const RawCase* cases, const uint16_t* lockorder, int n)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  ChanCore* last = nullptr;
  for (int i = 0; i < n; i++) {
    ChanCore* c = cases[lockorder[i]].c;
    if (c != last) {
      c->lock_.lock();
      last = c;
    }
  }
}

void SelUnlock(const RawCase* cases, const uint16_t* lockorder, int n)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (int i = n - 1; i >= 0; i--) {
    ChanCore* c = cases[lockorder[i]].c;
    if (i > 0 && c == cases[lockorder[i - 1]].c) continue;  // unlock on its first entry
    c->lock_.unlock();
  }
}

struct ParkArg {
  const RawCase* cases;
  const uint16_t* lockorder;
  int n;
};

// The park commit: runs once the select's G can no longer run [S3].
bool SelParkCommit(sched::G*, void* arg) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const auto* a = static_cast<const ParkArg*>(arg);
  const RawCase* cases = a->cases;
  const uint16_t* lockorder = a->lockorder;
  const int n = a->n;
  ChanCore* last = nullptr;
  for (int i = 0; i < n; i++) {
    ChanCore* c = cases[lockorder[i]].c;
    if (c == last) continue;
    if (last != nullptr) last->lock_.unlock();
    last = c;
  }
  last->lock_.unlock();  // the last touch of the select's frame
  return true;
}

// Sorts lockorder[0, n) by channel address (insertion sort for the usual
// handful of cases; std::sort keeps big dynamic selects n log n).
void SortByChannel(const RawCase* cases, uint16_t* lockorder, int n) {
  auto key = [cases](uint16_t i) { return reinterpret_cast<uintptr_t>(cases[i].c); };
  if (n > 16) {
    std::sort(lockorder, lockorder + n, [&](uint16_t a, uint16_t b) { return key(a) < key(b); });
    return;
  }
  for (int i = 1; i < n; i++) {
    uint16_t x = lockorder[i];
    int j = i;
    while (j > 0 && key(lockorder[j - 1]) > key(x)) {
      lockorder[j] = lockorder[j - 1];
      j--;
    }
    lockorder[j] = x;
  }
}

// One ready case, decided without the select machinery: what Go's compiler
// does for `select { case c <- v: ... [default: ...] }`.
int SelectOne(RawCase& k, int index, int dflt, std::source_location where) {
  const bool block = dflt < 0;
  if (k.kind == CaseKind::kSend) return k.c->Send(k.elem, block, where) ? index : dflt;
  return k.c->Recv(k.elem, block, where) == RecvStatus::kWouldBlock ? dflt : index;
}

}  // namespace

int SelectGo(RawCase* cases, int n, uint16_t* order, Waiter* waiters, std::source_location where)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  sched::MaybePreempt();
  int dflt = -1;
  int active = 0;
  int last_active = -1;
  for (int i = 0; i < n; i++) {
    if (cases[i].kind == CaseKind::kDefault) {
      dflt = i;
    } else if (cases[i].c != nullptr) {
      active++;
      last_active = i;
    }
  }
  if (active == 0) {
    if (dflt >= 0) return dflt;
    BlockForever(sched::WaitReason::kSelectNoCases, where);
  }
  if (active == 1) return SelectOne(cases[last_active], last_active, dflt, where);

  // Poll order: a uniformly random permutation of the active cases
  // (inside-out Fisher-Yates with the runtime's RandN).
  uint16_t* pollorder = order;
  uint16_t* lockorder = order + n;
  int norder = 0;
  for (int i = 0; i < n; i++) {
    if (cases[i].kind == CaseKind::kDefault || cases[i].c == nullptr) continue;
    const uint32_t j = sched::RandN(static_cast<uint32_t>(norder + 1));
    pollorder[norder] = pollorder[j];
    pollorder[j] = static_cast<uint16_t>(i);
    norder++;
  }
  std::copy(pollorder, pollorder + norder, lockorder);
  SortByChannel(cases, lockorder, norder);

  SelLock(cases, lockorder, norder);

  // Pass 1: take the first ready case in poll order (chan.go's checks, in
  // the same order as Send and Recv).
  for (int p = 0; p < norder; p++) {
    const int i = pollorder[p];
    RawCase& k = cases[i];
    ChanCore* c = k.c;
    if (k.kind == CaseKind::kRecv) {
      if (Waiter* s = c->sendq_.Dequeue()) {
        sched::G* g = c->RecvFromWaiterLocked(s, k.elem);
        SelUnlock(cases, lockorder, norder);
        sched::Ready(g);
        return i;
      }
      if (c->CanBufRecvLocked()) {
        c->RecvFromBufLocked(k.elem);
        SelUnlock(cases, lockorder, norder);
        return i;
      }
      if (c->ClosedLocked()) {
        SelUnlock(cases, lockorder, norder);
        return i;  // the slot stays nullopt: closed
      }
    } else {
      if (c->ClosedLocked()) {
        SelUnlock(cases, lockorder, norder);
        throw Panic("send on closed channel");
      }
      if (Waiter* r = c->recvq_.Dequeue()) {
        sched::G* g = c->SendToWaiterLocked(r, k.elem);
        SelUnlock(cases, lockorder, norder);
        sched::Ready(g);
        return i;
      }
      if (c->CanBufSendLocked()) {
        c->SendToBufLocked(k.elem);
        SelUnlock(cases, lockorder, norder);
        return i;
      }
    }
  }
  if (dflt >= 0) {
    SelUnlock(cases, lockorder, norder);
    return dflt;
  }

  // Pass 2: a waiter on every channel, in lock order [S2]; park.
  SelectSync sync;
  sync.done.store(0, std::memory_order_relaxed);
  sync.winner = nullptr;
  sched::G* self = sched::CurrentG();
  for (int p = 0; p < norder; p++) {
    const RawCase& k = cases[lockorder[p]];
    Waiter* w = &waiters[p];
    w->g = self;
    w->elem = k.elem;
    w->sel = &sync;
    w->wake_next = nullptr;
    w->success = false;
    (k.kind == CaseKind::kSend ? k.c->sendq_ : k.c->recvq_).Enqueue(w);
  }
  ParkArg arg{cases, lockorder, norder};
  sched::Park(&SelParkCommit, &arg, sched::WaitReason::kSelect, where);

  // Pass 3: the claimer recorded the winning waiter; remove the others [S4].
  SelLock(cases, lockorder, norder);
  Waiter* win = sync.winner;
  int chosen = -1;
  bool success = false;
  for (int p = 0; p < norder; p++) {
    Waiter* w = &waiters[p];
    const RawCase& k = cases[lockorder[p]];
    if (w == win) {
      chosen = lockorder[p];
      success = w->success;
    } else {
      (k.kind == CaseKind::kSend ? k.c->sendq_ : k.c->recvq_).Remove(w);
    }
  }
  SelUnlock(cases, lockorder, norder);
  if (chosen < 0) sched::Fatal("select: bad wakeup");
  // A receive woken by Close left its slot empty (closed); a send woken by
  // Close must panic.
  if (cases[chosen].kind == CaseKind::kSend && !success) throw Panic("send on closed channel");
  return chosen;
}

}  // namespace chan_internal

int SelectDynamic(std::span<SelectCase> cases, std::source_location where) {
  using chan_internal::RawCase;
  using chan_internal::SelectCaseAccess;
  using chan_internal::Waiter;
  if (cases.size() > 65536) throw Panic("reflect.Select: too many cases (max 65536)");
  const int n = static_cast<int>(cases.size());
  int defaults = 0;
  for (const SelectCase& c : cases) {
    if (SelectCaseAccess::Raw(c).kind == chan_internal::CaseKind::kDefault) defaults++;
    SelectCaseAccess::Reset(c);
  }
  if (defaults > 1) throw Panic("reflect.Select: multiple default cases");

  constexpr int kInline = 16;
  RawCase raw_inline[kInline];
  uint16_t order_inline[2 * kInline];
  Waiter waiters_inline[kInline];
  std::unique_ptr<RawCase[]> raw_heap;
  std::unique_ptr<uint16_t[]> order_heap;
  std::unique_ptr<Waiter[]> waiters_heap;
  RawCase* raw = raw_inline;
  uint16_t* order = order_inline;
  Waiter* waiters = waiters_inline;
  if (n > kInline) {
    raw_heap.reset(new RawCase[n]);
    order_heap.reset(new uint16_t[2 * static_cast<size_t>(n)]);
    waiters_heap.reset(new Waiter[n]);
    raw = raw_heap.get();
    order = order_heap.get();
    waiters = waiters_heap.get();
  }
  for (int i = 0; i < n; i++) raw[i] = SelectCaseAccess::Raw(cases[i]);
  return chan_internal::SelectGo(raw, n, order, waiters, where);
}

}  // namespace go
