// The type-erased heart of go:: channels (Go's runtime/chan.go `hchan`).
//
// Internal to the runtime: user code includes runtime/go.h and uses the typed
// handles of chan.h (Chan, RecvChan, SendChan) and select.h. Everything here
// works on untyped element storage so that one compiled copy serves every
// element type, and so that select can mix channels of different types.
//
// Types:
//   ElemOps     how to move, construct and destroy one element type (a tiny
//               vtable, one per T, built by OpsFor<T>).
//   Waiter      a blocked Send/Recv/select case (Go's sudog). It lives on the
//               blocked goroutine's (or thread's) stack: a blocking operation
//               allocates nothing.
//   SelectSync  the per-select "done" flag that lets exactly one case win.
//   WaitQ       a FIFO of waiters (Go's waitq), guarded by the channel lock.
//   ChanCore    the channel: lock, ring buffer, sendq/recvq, closed flag,
//               reference count. Go's chansend/chanrecv/closechan.
//   ChanRef     an owning, reference-counted pointer to a ChanCore.
//
// Element storage conventions (every `void*` below):
//   - a *source* is a `T*` owned by the sender (its `Send(T v)` parameter or
//     a select case's value); a transfer moves out of it and leaves it for its
//     owner to destroy;
//   - a *destination* is a `std::optional<T>*` owned by the receiver, or null
//     when the receiver discards the value; a transfer emplaces into it;
//   - a *slot* is raw storage in the ring buffer, constructed by a buffered
//     send and destroyed by the receive that empties it.
// Element moves must not throw (they run under the channel lock, with a peer
// half-way through a hand-off); the ops are noexcept, so a throwing move
// constructor terminates the program.
#ifndef GO_RUNTIME_CHAN_CHAN_CORE_H_
#define GO_RUNTIME_CHAN_CHAN_CORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <source_location>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "runtime/internal/lock.h"
#include "runtime/sched/g.h"
#include "runtime/sched/lock.h"

namespace go::chan_internal {

// ElemOps: the operations a channel needs on its element type.
struct ElemOps {
  size_t size;
  size_t align;
  // *dst (optional<T>) = move(*src); *src stays alive for its owner.
  void (*send_to_recv)(void* dst, void* src) noexcept;
  // Constructs T in the raw slot from move(*src).
  void (*send_to_buf)(void* slot, void* src) noexcept;
  // Moves the slot's T into *dst (if dst is not null) and destroys the slot.
  void (*buf_to_recv)(void* dst, void* slot) noexcept;
  // Destroys the T in a slot (buffered values of a dead channel).
  void (*destroy)(void* slot) noexcept;
  // dst->reset(): a dynamic select clears its result slots first.
  void (*reset_dst)(void* dst) noexcept;
};

template <typename T>
struct OpsFor {
  static void SendToRecv(void* dst, void* src) noexcept {
    if (dst) static_cast<std::optional<T>*>(dst)->emplace(std::move(*static_cast<T*>(src)));
  }
  static void SendToBuf(void* slot, void* src) noexcept {
    ::new (slot) T(std::move(*static_cast<T*>(src)));
  }
  static void BufToRecv(void* dst, void* slot) noexcept {
    T* v = std::launder(static_cast<T*>(slot));
    if (dst) static_cast<std::optional<T>*>(dst)->emplace(std::move(*v));
    v->~T();
  }
  static void Destroy(void* slot) noexcept { std::launder(static_cast<T*>(slot))->~T(); }
  static void ResetDst(void* dst) noexcept { static_cast<std::optional<T>*>(dst)->reset(); }
};

template <typename T>
inline constexpr ElemOps kOpsFor = {sizeof(T),           alignof(T),           &OpsFor<T>::SendToRecv,
                                    &OpsFor<T>::SendToBuf, &OpsFor<T>::BufToRecv, &OpsFor<T>::Destroy,
                                    &OpsFor<T>::ResetDst};

// ChanLock: the channel lock, runtime/internal/lock.h (instrumented, so that
// TSan sees the edges it makes; spin, yield, then futex, like Go's).
// Memory ordering: unlock() releases, lock() acquires.
using ChanLock = ::go::internal::Lock;
using ChanLockGuard = ::go::internal::LockGuard;

struct Waiter;

// SelectSync: shared by all waiters of one blocked select (on its stack).
// The first waker to flip `done` from 0 to 1 owns the select and records its
// waiter in `winner`; later wakers that find another of its waiters skip it.
struct SelectSync {
  std::atomic<uint32_t> done;
  Waiter* winner;  // written by the claimer under its channel's lock
};

// Waiter: one blocked operation. Trivially constructible on purpose (a select
// reserves one per case and initializes only those it enqueues). All fields
// are guarded by the lock of the channel whose queue holds the waiter; once a
// waker has dequeued it, the waker owns the fields until it calls Ready(g).
struct Waiter {
  Waiter* prev;
  Waiter* next;
  sched::G* g;       // who to Ready
  void* elem;        // source (send) or destination (receive)
  SelectSync* sel;   // null for a plain Send/Recv
  Waiter* wake_next;  // Close collects the waiters it wakes on this list
  bool success;      // true: the value moved; false: woken by Close
};

// WaitQ: a FIFO of waiters (Go's waitq). Guarded by the owning channel's
// lock; `first_` is also read without the lock (relaxed) by the non-blocking
// fast paths, which only ask "is it empty".
class WaitQ {
 public:
  bool Empty() const noexcept { return first_.load(std::memory_order_acquire) == nullptr; }
  void Enqueue(Waiter* w) noexcept;
  // Pops the oldest waiter that can still complete: a select waiter whose
  // select another case already won is dropped (it is no longer in the
  // queue, and its owner's pass 3 tolerates that). Claims the select of the
  // waiter it returns. Null when none.
  Waiter* Dequeue() noexcept;
  // Unlinks w if it is still queued; a no-op if a Dequeue already dropped it.
  void Remove(Waiter* w) noexcept;
  size_t Size() const noexcept;

 private:
  std::atomic<Waiter*> first_{nullptr};
  Waiter* last_ = nullptr;
};

enum class RecvStatus : uint8_t { kWouldBlock, kReceived, kClosed };

// ChanCore: one channel. Allocated once with its ring buffer right after the
// header (like Go's makechan), freed when the last handle goes away.
class ChanCore {
 public:
  // Makes a channel of `cap` elements described by ops. Panics with Go's
  // "makechan: size out of range" if the buffer cannot be sized.
  static ChanCore* New(const ElemOps* ops, size_t cap);

  ChanCore(const ChanCore&) = delete;
  ChanCore& operator=(const ChanCore&) = delete;

  // Handle reference counting (ChanRef does this for you).
  void Ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) LastHandleGone();
  }

  // Send moves *src into the channel. With block, waits until a receiver or
  // buffer space takes it; without, returns false instead of waiting. Throws
  // Panic("send on closed channel") if the channel is (or, while waiting,
  // becomes) closed. Returns true when the value was sent.
  bool Send(void* src, bool block, std::source_location where);
  // Recv receives into *dst (an optional<T>*, or null to discard).
  // kReceived: a value arrived; kClosed: closed and drained (dst untouched);
  // kWouldBlock: only without block, nothing ready.
  RecvStatus Recv(void* dst, bool block, std::source_location where);
  // Close marks the channel closed and wakes every waiter: receivers get
  // kClosed, senders throw. Throws Panic("close of closed channel").
  void Close();

  // Len and Cap as Go's len/cap (0 for the channel of a Timer or Ticker, as
  // in Go 1.23, whose timer channels behave as unbuffered).
  size_t Len() const noexcept { return timer_chan_ ? 0 : count_.load(std::memory_order_relaxed); }
  size_t Cap() const noexcept { return timer_chan_ ? 0 : cap_; }

  // Test hooks: how many goroutines wait to send / receive.
  size_t NumSendWaiters();
  size_t NumRecvWaiters();

  // --- for select.cc and time channels: all require lock_ held -------------
  bool ClosedLocked() const noexcept { return closed_.load(std::memory_order_relaxed) != 0; }
  bool CanBufSendLocked() const noexcept { return count_.load(std::memory_order_relaxed) < cap_; }
  bool CanBufRecvLocked() const noexcept { return count_.load(std::memory_order_relaxed) > 0; }
  // Hands *src to the dequeued receiver r; returns the G to Ready after the
  // lock is released.
  sched::G* SendToWaiterLocked(Waiter* r, void* src) noexcept;
  void SendToBufLocked(void* src) noexcept;
  // Takes the value of the dequeued sender s (directly, or the buffer head
  // with s's value refilling the freed slot); returns the G to Ready.
  sched::G* RecvFromWaiterLocked(Waiter* s, void* dst) noexcept;
  void RecvFromBufLocked(void* dst) noexcept;
  // Non-blocking send that never panics (for timer callbacks): drops the
  // value if the channel is closed or full. Returns the G to Ready after
  // unlocking, or null. (Returned by value, not through an out-parameter: a
  // timer callback must not keep addressable locals, see time/timer.cc.)
  sched::G* TrySendLocked(void* src) noexcept;
  // Destroys every buffered value; true if there was one.
  bool DrainLocked() noexcept;

  ChanLock lock_;
  WaitQ recvq_ ABSL_GUARDED_BY(lock_);
  WaitQ sendq_ ABSL_GUARDED_BY(lock_);

 protected:
  ChanCore(const ElemOps* ops, size_t cap, unsigned char* buf, bool timer_chan) noexcept;
  virtual ~ChanCore();
  // Called once when the last handle is dropped. Plain channels free
  // themselves; time channels first stop their timer (time/timer.cc).
  virtual void LastHandleGone() noexcept;

  // Allocates a D (a ChanCore or a subclass) with room for cap elements of
  // ops behind it, and constructs it with (ops, cap, buf, args...).
  template <typename D, typename... Args>
  static D* Create(const ElemOps* ops, size_t cap, Args&&... args);
  // Destroys and frees a channel made by Create.
  static void Free(ChanCore* c) noexcept;

 private:
  static void* Allocate(size_t header, size_t header_align, const ElemOps* ops, size_t cap,
                        unsigned char** buf, uint32_t* align, uint32_t* small_size);
  void* Slot(size_t i) const noexcept { return buf_ + i * elemsize_; }
  bool Full() const noexcept;   // lock-free: "a send would block" (chan.go's full)
  bool Empty() const noexcept;  // lock-free: "a receive would block" (chan.go's empty)

  std::atomic<intptr_t> refs_{1};
  const ElemOps* const ops_;
  const size_t cap_;
  const size_t elemsize_;
  unsigned char* const buf_;
  const bool timer_chan_;
  // How Create allocated this channel: small_size_ bytes from the runtime's
  // small-object allocator, or (small_size_ == 0) operator new with
  // alloc_align_.
  uint32_t alloc_align_ = 0;
  uint32_t small_size_ = 0;
  // Written under lock_; read without it by Len and the fast paths.
  std::atomic<size_t> count_{0};
  std::atomic<uint32_t> closed_{0};
  size_t sendx_ ABSL_GUARDED_BY(lock_) = 0;
  size_t recvx_ ABSL_GUARDED_BY(lock_) = 0;
};

template <typename D, typename... Args>
D* ChanCore::Create(const ElemOps* ops, size_t cap, Args&&... args) {
  unsigned char* buf = nullptr;
  uint32_t align = 0, small_size = 0;
  void* mem = Allocate(sizeof(D), alignof(D), ops, cap, &buf, &align, &small_size);
  D* d = ::new (mem) D(ops, cap, buf, std::forward<Args>(args)...);
  d->alloc_align_ = align;
  d->small_size_ = small_size;
  return d;
}

// ChanRef: owns one reference to a ChanCore (or is null: the nil channel).
class ChanRef {
 public:
  ChanRef() noexcept = default;
  // Adopts a reference the caller already holds (e.g. from ChanCore::New).
  explicit ChanRef(ChanCore* c) noexcept : c_(c) {}
  ChanRef(const ChanRef& o) noexcept : c_(o.c_) {
    if (c_) c_->Ref();
  }
  ChanRef(ChanRef&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  ChanRef& operator=(const ChanRef& o) noexcept {
    ChanRef(o).swap(*this);
    return *this;
  }
  ChanRef& operator=(ChanRef&& o) noexcept {
    ChanRef(std::move(o)).swap(*this);
    return *this;
  }
  ~ChanRef() {
    if (c_) c_->Unref();
  }
  void swap(ChanRef& o) noexcept { std::swap(c_, o.c_); }
  ChanCore* get() const noexcept { return c_; }

 private:
  ChanCore* c_ = nullptr;
};

// The operations the typed handles forward to; a null core is the nil channel
// (sends and receives block forever, Close panics).
void Send(ChanCore* c, void* src, std::source_location where);
bool Recv(ChanCore* c, void* dst, std::source_location where);  // false: closed
void Close(ChanCore* c);

// Parks the caller forever (nil channel operations, empty select).
[[noreturn]] void BlockForever(sched::WaitReason reason, std::source_location where);

}  // namespace go::chan_internal

#endif  // GO_RUNTIME_CHAN_CHAN_CORE_H_
