// Channel send, receive and close (Go's runtime/chan.go, rewritten).
//
// Invariants (all under ChanCore::lock_; cited below as [I1]..[I5]):
//   [I1] At least one of sendq_ and recvq_ is empty, except for an unbuffered
//        channel on which one select waits to send and to receive at once
//        (then both hold only that select's waiters).
//   [I2] count_ > 0 implies recvq_ is empty (a receiver never waits while a
//        value is buffered).
//   [I3] count_ < cap_ implies sendq_ is empty (a sender never waits while
//        there is room).
//   [I4] closed_ implies sendq_ and recvq_ are empty (Close empties both and
//        nobody enqueues on a closed channel).
//   [I5] The buffer holds count_ live elements, in slots recvx_, recvx_+1, ...
//        (mod cap_); sendx_ == (recvx_ + count_) % cap_.
//   A dequeued waiter is owned by its dequeuer until Ready(waiter->g): the
//   waiter's goroutine cannot run, so its stack (where the waiter lives) is
//   stable. After Ready the waiter must not be touched.
//
// Blocking: the caller enqueues a Waiter on its own stack while holding
// lock_, then sched::Park(commit = unlock lock_). The waker fills the waiter
// (value moved, success) under lock_, unlocks, then calls Ready. Waking after
// the unlock keeps lock hold times short and keeps the scheduler out of the
// critical section.
//
// Memory ordering (what ThreadSanitizer sees): every hand-off happens under
// lock_ (a ChanLock: release on unlock, acquire on lock), and a parked
// peer additionally gets the Ready -> resume edge. So: a send happens before
// the receive of that value completes (the value is written under the lock
// the receiver takes next, or before Ready of the receiver); Close happens
// before a receive that reports closed (closed_ is stored with release and
// read with acquire, or under the lock); a receive from an unbuffered
// channel, and the k-th receive from a buffered one, happen before the
// matching (k+C)-th send completes (the receiver frees the slot or takes the
// sender's value under the lock the sender, or the sender's Ready, follows).
#include "runtime/chan/chan_core.h"

#include <cstring>
#include <limits>

#include "runtime/panic.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/small_alloc.h"

namespace go::chan_internal {
namespace {

bool UnlockCommit(sched::G*, void* lock) {
  static_cast<ChanLock*>(lock)->unlock();
  return true;
}

}  // namespace

// --- WaitQ ----------------------------------------------------------------

void WaitQ::Enqueue(Waiter* w) noexcept {
  w->next = nullptr;
  Waiter* x = last_;
  if (x == nullptr) {
    w->prev = nullptr;
    first_.store(w, std::memory_order_relaxed);
    last_ = w;
    return;
  }
  w->prev = x;
  x->next = w;
  last_ = w;
}

Waiter* WaitQ::Dequeue() noexcept {
  for (;;) {
    Waiter* w = first_.load(std::memory_order_relaxed);
    if (w == nullptr) return nullptr;
    Waiter* y = w->next;
    if (y == nullptr) {
      first_.store(nullptr, std::memory_order_relaxed);
      last_ = nullptr;
    } else {
      y->prev = nullptr;
      first_.store(y, std::memory_order_relaxed);
      w->next = nullptr;
    }
    // A select's waiters sit on several channels. Between another case
    // winning and the select's pass 3 removing the rest, a loser can still be
    // found here: the claim tells us, and we simply drop it (Go's selectDone).
    // (An exchange rather than a CAS: setting an already-set flag is
    // harmless, and no `expected` local is needed.)
    if (SelectSync* s = w->sel) {
      if (s->done.exchange(1, std::memory_order_acq_rel) != 0) continue;
      s->winner = w;
    }
    return w;
  }
}

void WaitQ::Remove(Waiter* w) noexcept {
  Waiter* x = w->prev;
  Waiter* y = w->next;
  if (x != nullptr) {
    if (y != nullptr) {
      x->next = y;
      y->prev = x;
      w->next = nullptr;
      w->prev = nullptr;
      return;
    }
    x->next = nullptr;
    last_ = x;
    w->prev = nullptr;
    return;
  }
  if (y != nullptr) {
    y->prev = nullptr;
    first_.store(y, std::memory_order_relaxed);
    w->next = nullptr;
    return;
  }
  // No neighbours: w is either the only element or already dropped by a
  // Dequeue; first_ tells which.
  if (first_.load(std::memory_order_relaxed) == w) {
    first_.store(nullptr, std::memory_order_relaxed);
    last_ = nullptr;
  }
}

size_t WaitQ::Size() const noexcept {
  size_t n = 0;
  for (Waiter* w = first_.load(std::memory_order_relaxed); w; w = w->next) n++;
  return n;
}

// --- allocation ---------------------------------------------------------------

ChanCore::ChanCore(const ElemOps* ops, size_t cap, unsigned char* buf, bool timer_chan) noexcept
    : ops_(ops), cap_(cap), elemsize_(ops->size), buf_(buf), timer_chan_(timer_chan) {}

ChanCore::~ChanCore() {
  // Buffered values nobody received die with the channel [I5].
  size_t n = count_.load(std::memory_order_relaxed);
  size_t i = recvx_;
  while (n-- > 0) {
    ops_->destroy(Slot(i));
    if (++i == cap_) i = 0;
  }
}

void* ChanCore::Allocate(size_t header, size_t header_align, const ElemOps* ops, size_t cap,
                         unsigned char** buf, uint32_t* align, uint32_t* small_size) {
  const size_t a = ops->align > header_align ? ops->align : header_align;
  const size_t off = (header + ops->align - 1) / ops->align * ops->align;
  constexpr size_t kMax = std::numeric_limits<size_t>::max() / 4;
  if (cap > 0 && (ops->size > (kMax - off) / cap)) throw Panic("makechan: size out of range");
  const size_t total = off + cap * ops->size;
  void* mem;
  if (a <= sched::kSmallAllocAlign && total <= sched::kSmallAllocMax) {
    // Most channels (unbuffered, timers' and contexts' Done channels, small
    // buffers) fit a small-object class: per-P free lists over huge-page
    // arenas instead of malloc's fresh pages (sched/small_alloc.h).
    mem = sched::SmallAlloc(total);
    *small_size = static_cast<uint32_t>(total);
  } else {
    mem = ::operator new(total, std::align_val_t{a});
    *small_size = 0;
  }
  *buf = static_cast<unsigned char*>(mem) + off;
  *align = static_cast<uint32_t>(a);
  return mem;
}

ChanCore* ChanCore::New(const ElemOps* ops, size_t cap) {
  return Create<ChanCore>(ops, cap, false);
}

void ChanCore::Free(ChanCore* c) noexcept {
  const size_t a = c->alloc_align_;
  const size_t small = c->small_size_;
  void* mem = dynamic_cast<void*>(c);  // the most-derived object: what Create allocated
  c->~ChanCore();
  if (small != 0) {
    sched::SmallFree(mem, small);
  } else {
    ::operator delete(mem, std::align_val_t{a});
  }
}

void ChanCore::LastHandleGone() noexcept { Free(this); }

// --- lock-free predicates (chan.go's full/empty) --------------------------------

// Both read one word each. cap_ is immutable, so it needs no ordering.
bool ChanCore::Full() const noexcept {
  if (cap_ == 0) return recvq_.Empty();
  return count_.load(std::memory_order_acquire) == cap_;
}

bool ChanCore::Empty() const noexcept {
  if (cap_ == 0) return sendq_.Empty();
  return count_.load(std::memory_order_acquire) == 0;
}

// --- locked transfers -------------------------------------------------------------

sched::G* ChanCore::SendToWaiterLocked(Waiter* r, void* src) noexcept {
  ops_->send_to_recv(r->elem, src);
  r->success = true;
  return r->g;
}

void ChanCore::SendToBufLocked(void* src) noexcept {
  ops_->send_to_buf(Slot(sendx_), src);
  if (++sendx_ == cap_) sendx_ = 0;
  count_.store(count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

sched::G* ChanCore::RecvFromWaiterLocked(Waiter* s, void* dst) noexcept {
  if (cap_ == 0) {
    // Unbuffered: copy straight from the sender's stack.
    ops_->send_to_recv(dst, s->elem);
  } else {
    // A sender waits only on a full buffer [I3]: take the head, and put the
    // sender's value into the slot just freed, which is the tail. FIFO holds
    // because the waiting sender's value is the newest.
    void* slot = Slot(recvx_);
    ops_->buf_to_recv(dst, slot);
    ops_->send_to_buf(slot, s->elem);
    if (++recvx_ == cap_) recvx_ = 0;
    sendx_ = recvx_;  // still full [I5]
  }
  s->success = true;
  return s->g;
}

void ChanCore::RecvFromBufLocked(void* dst) noexcept {
  ops_->buf_to_recv(dst, Slot(recvx_));
  if (++recvx_ == cap_) recvx_ = 0;
  count_.store(count_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

sched::G* ChanCore::TrySendLocked(void* src) noexcept {
  if (ClosedLocked()) return nullptr;
  if (Waiter* r = recvq_.Dequeue()) return SendToWaiterLocked(r, src);
  if (CanBufSendLocked()) SendToBufLocked(src);
  return nullptr;
}

bool ChanCore::DrainLocked() noexcept {
  bool any = false;
  while (CanBufRecvLocked()) {
    RecvFromBufLocked(nullptr);
    any = true;
  }
  return any;
}

// --- Send / Recv / Close ---------------------------------------------------------

bool ChanCore::Send(void* src, bool block, std::source_location where) {
  // Fast path: a failed non-blocking send, decided without the lock. We read
  // "not closed", then "not ready for sending". A closed channel never turns
  // from ready to not-ready, so there was a moment at which it was open and
  // full; we answer as of that moment (chan.go's argument). Reordering the
  // two reads would be fine too: full-then-open implies open during the first.
  if (!block && closed_.load(std::memory_order_relaxed) == 0 && Full()) return false;

  lock_.lock();
  if (ClosedLocked()) {
    lock_.unlock();
    throw Panic("send on closed channel");
  }
  if (Waiter* r = recvq_.Dequeue()) {
    // A waiting receiver means an empty buffer [I2]: hand over directly.
    sched::G* g = SendToWaiterLocked(r, src);
    lock_.unlock();
    sched::Ready(g);
    return true;
  }
  if (CanBufSendLocked()) {
    SendToBufLocked(src);
    lock_.unlock();
    return true;
  }
  if (!block) {
    lock_.unlock();
    return false;
  }
  Waiter w;
  w.g = sched::CurrentG();
  w.elem = src;
  w.sel = nullptr;
  w.wake_next = nullptr;
  w.success = false;
  sendq_.Enqueue(&w);  // keeps [I3]: the buffer is full
  sched::Park(&UnlockCommit, &lock_, sched::WaitReason::kChanSend, where);
  // A receiver took the value (success) or Close woke us.
  if (!w.success) throw Panic("send on closed channel");
  return true;
}

RecvStatus ChanCore::Recv(void* dst, bool block, std::source_location where) {
  // Fast path: a failed non-blocking receive without the lock. Empty, then
  // open: there was a moment at which it was both (an empty channel stays
  // empty once closed), so "would block" is a correct answer. The acquire on
  // the first read keeps the second after it. If it was closed, look again:
  // a value may have arrived between the two reads; the acquire on closed_
  // (paired with Close's release) makes every send before the Close visible.
  if (!block && Empty()) {
    if (closed_.load(std::memory_order_acquire) == 0) return RecvStatus::kWouldBlock;
    if (Empty()) return RecvStatus::kClosed;
  }

  lock_.lock();
  if (ClosedLocked() && !CanBufRecvLocked()) {
    lock_.unlock();
    return RecvStatus::kClosed;  // buffered values are delivered first
  }
  if (Waiter* s = sendq_.Dequeue()) {
    sched::G* g = RecvFromWaiterLocked(s, dst);
    lock_.unlock();
    sched::Ready(g);
    return RecvStatus::kReceived;
  }
  if (CanBufRecvLocked()) {
    RecvFromBufLocked(dst);
    lock_.unlock();
    return RecvStatus::kReceived;
  }
  if (!block) {
    lock_.unlock();
    return RecvStatus::kWouldBlock;
  }
  Waiter w;
  w.g = sched::CurrentG();
  w.elem = dst;
  w.sel = nullptr;
  w.wake_next = nullptr;
  w.success = false;
  recvq_.Enqueue(&w);  // keeps [I2]: the buffer is empty
  sched::Park(&UnlockCommit, &lock_, sched::WaitReason::kChanReceive, where);
  return w.success ? RecvStatus::kReceived : RecvStatus::kClosed;
}

void ChanCore::Close() {
  lock_.lock();
  if (ClosedLocked()) {
    lock_.unlock();
    throw Panic("close of closed channel");
  }
  closed_.store(1, std::memory_order_release);
  // Collect every waiter [I4]; wake them after unlocking. Receivers keep an
  // empty destination (nullopt); senders will throw.
  Waiter* wake = nullptr;
  Waiter** tail = &wake;
  for (WaitQ* q : {&recvq_, &sendq_}) {
    while (Waiter* w = q->Dequeue()) {
      w->success = false;
      w->wake_next = nullptr;
      *tail = w;
      tail = &w->wake_next;
    }
  }
  lock_.unlock();
  while (wake != nullptr) {
    // Read both fields before Ready: afterwards the waiter may be gone.
    Waiter* next = wake->wake_next;
    sched::G* g = wake->g;
    sched::Ready(g);
    wake = next;
  }
}

size_t ChanCore::NumSendWaiters() {
  ChanLockGuard l(lock_);
  return sendq_.Size();
}

size_t ChanCore::NumRecvWaiters() {
  ChanLockGuard l(lock_);
  return recvq_.Size();
}

// --- entry points used by the typed handles -----------------------------------------

void BlockForever(sched::WaitReason reason, std::source_location where) {
  for (;;) sched::Park(nullptr, nullptr, reason, where);
}

void Send(ChanCore* c, void* src, std::source_location where) {
  sched::MaybePreempt();
  if (c == nullptr) BlockForever(sched::WaitReason::kChanSendNilChan, where);
  c->Send(src, true, where);
}

bool Recv(ChanCore* c, void* dst, std::source_location where) {
  sched::MaybePreempt();
  if (c == nullptr) BlockForever(sched::WaitReason::kChanReceiveNilChan, where);
  return c->Recv(dst, true, where) == RecvStatus::kReceived;
}

void Close(ChanCore* c) {
  if (c == nullptr) throw Panic("close of nil channel");
  c->Close();
}

}  // namespace go::chan_internal
