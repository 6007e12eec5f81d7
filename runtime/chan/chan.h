// Go channels: go::Chan<T>, RecvChan<T>, SendChan<T>, MakeChan<T>.
//
// A channel passes values of type T between goroutines (and plain threads),
// with Go's semantics exactly (runtime/chan.go):
//   - MakeChan<T>(0) is unbuffered: a send waits for a receiver and hands the
//     value over directly; MakeChan<T>(n) buffers up to n values (FIFO).
//   - Per sender, values arrive in the order sent; blocked senders and blocked
//     receivers are served first come, first served.
//   - Close() wakes every blocked receiver (they get std::nullopt) and every
//     blocked sender (its Send throws Panic("send on closed channel")).
//     Values already buffered are still received after Close.
//   - A default-constructed handle is the nil channel: Send and Recv block
//     forever, Close panics, and its select cases are never ready.
//
// The handles are cheap, copyable, reference-counted pointers to one shared
// channel (like Go's channel values); == compares identity. RecvChan<T> and
// SendChan<T> are the direction-restricted views (Go's <-chan T and chan<- T),
// implicitly converted from Chan<T>. The channel is freed with its last handle.
//
// T may be move-only (std::unique_ptr) and large. Its move constructor must
// not throw: moves happen while a peer is half-way through a hand-off, so a
// throwing move terminates the program.
//
// Memory ordering (Go's memory model, as ThreadSanitizer sees it): for
// goroutines X and Y,
//   - if X sends v and Y receives v, everything X did before Send happens
//     before Y's Recv returns;
//   - if X closes the channel and Y's Recv returns std::nullopt because of
//     it, everything X did before Close happens before that Recv returns;
//   - on an unbuffered channel, everything Y did before receiving v happens
//     before X's Send(v) returns;
//   - on a channel of capacity C, the k-th receive happens before the
//     (k+C)-th send returns (so a buffered channel works as a semaphore).
//
// Goroutine dumps show where a blocked Send/Recv was called (the trailing
// std::source_location parameters default to the call site).
#ifndef GO_RUNTIME_CHAN_CHAN_H_
#define GO_RUNTIME_CHAN_CHAN_H_

#include <cstddef>
#include <functional>
#include <iterator>
#include <optional>
#include <source_location>
#include <type_traits>
#include <utility>

#include "runtime/chan/chan_core.h"

namespace go {

template <typename T>
class Chan;
template <typename T>
class RecvChan;
template <typename T>
class SendChan;

namespace chan_internal {

// Gives the runtime (select, time) access to a handle's core.
struct Access {
  template <typename H>
  static ChanCore* Core(const H& h) noexcept {
    return h.ref_.get();
  }
  template <typename H>
  static const ChanRef& Ref(const H& h) noexcept {
    return h.ref_;
  }
  template <typename H>
  static ChanRef Take(H&& h) noexcept {
    return std::move(h.ref_);
  }
  template <typename H>
  static H Make(ChanRef r) noexcept {
    return H(std::move(r));
  }
};

// RecvIterator: the input iterator behind `for (T v : ch)`. Each step is a
// blocking receive; the loop ends when the channel is closed and drained.
// *it yields T& for copyable T and T&& for move-only T (so `for (T v : ch)`
// compiles for both; with move-only T, write `T v` or `auto&& v`).
template <typename T>
class RecvIterator {
 public:
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using reference = std::conditional_t<std::is_copy_constructible_v<T>, T&, T&&>;

  RecvIterator() = default;
  RecvIterator(ChanRef ref, std::source_location where) : ref_(std::move(ref)), where_(where) {
    Advance();
  }

  reference operator*() const { return static_cast<reference>(*cur_); }
  RecvIterator& operator++() {
    Advance();
    return *this;
  }
  void operator++(int) { Advance(); }
  friend bool operator==(const RecvIterator& it, std::default_sentinel_t) noexcept {
    return !it.cur_.has_value();
  }

 private:
  void Advance() {
    cur_.reset();
    chan_internal::Recv(ref_.get(), &cur_, where_);
  }

  ChanRef ref_;  // keeps the channel alive even if the loop reassigns its handle
  std::source_location where_;
  mutable std::optional<T> cur_;
};

}  // namespace chan_internal

// Chan<T>: a bidirectional channel handle. See the file comment.
template <typename T>
class Chan {
 public:
  using value_type = T;

  // Chan constructs the nil channel. Use MakeChan to make a usable one.
  Chan() noexcept = default;

  // Send sends v, blocking until a receiver takes it or buffer space frees.
  // Throws Panic("send on closed channel") if the channel is closed, also
  // when it is closed while Send waits. On the nil channel, blocks forever.
  void Send(T v, std::source_location where = std::source_location::current()) const {
    chan_internal::Send(ref_.get(), &v, where);
  }

  // Recv receives the next value, blocking until one is available. Returns
  // std::nullopt once the channel is closed and every buffered value has
  // been received. On the nil channel, blocks forever.
  std::optional<T> Recv(std::source_location where = std::source_location::current()) const {
    std::optional<T> r;
    chan_internal::Recv(ref_.get(), &r, where);
    return r;
  }

  // Close closes the channel: no more sends; receivers drain the buffer and
  // then get std::nullopt. Throws Panic("close of closed channel") on a
  // second Close and Panic("close of nil channel") on the nil channel.
  void Close() const { chan_internal::Close(ref_.get()); }

  // Len returns the number of buffered values; Cap the buffer size (0 for
  // unbuffered and nil channels).
  size_t Len() const noexcept { return ref_.get() ? ref_.get()->Len() : 0; }
  size_t Cap() const noexcept { return ref_.get() ? ref_.get()->Cap() : 0; }

  // False for the nil channel.
  explicit operator bool() const noexcept { return ref_.get() != nullptr; }

  // Range-for: `for (T v : ch)` receives until closed and drained.
  chan_internal::RecvIterator<T> begin(
      std::source_location where = std::source_location::current()) const {
    return chan_internal::RecvIterator<T>(ref_, where);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

  // Identity: two handles are equal when they refer to the same channel.
  friend bool operator==(const Chan& a, const Chan& b) noexcept {
    return a.ref_.get() == b.ref_.get();
  }

 private:
  friend struct chan_internal::Access;
  explicit Chan(chan_internal::ChanRef r) noexcept : ref_(std::move(r)) {}

  chan_internal::ChanRef ref_;
};

// RecvChan<T>: the receive-only view of a channel (Go's <-chan T).
template <typename T>
class RecvChan {
 public:
  using value_type = T;

  RecvChan() noexcept = default;  // the nil channel
  RecvChan(const Chan<T>& c) noexcept : ref_(chan_internal::Access::Ref(c)) {}  // NOLINT: implicit
  RecvChan(Chan<T>&& c) noexcept  // NOLINT: implicit, like Go's assignability
      : ref_(chan_internal::Access::Take(std::move(c))) {}

  // See Chan<T>::Recv.
  std::optional<T> Recv(std::source_location where = std::source_location::current()) const {
    std::optional<T> r;
    chan_internal::Recv(ref_.get(), &r, where);
    return r;
  }
  size_t Len() const noexcept { return ref_.get() ? ref_.get()->Len() : 0; }
  size_t Cap() const noexcept { return ref_.get() ? ref_.get()->Cap() : 0; }
  explicit operator bool() const noexcept { return ref_.get() != nullptr; }
  chan_internal::RecvIterator<T> begin(
      std::source_location where = std::source_location::current()) const {
    return chan_internal::RecvIterator<T>(ref_, where);
  }
  std::default_sentinel_t end() const noexcept { return {}; }
  // Identity (also against a Chan<T>, which converts).
  friend bool operator==(const RecvChan& a, const RecvChan& b) noexcept {
    return a.ref_.get() == b.ref_.get();
  }

 private:
  friend struct chan_internal::Access;
  explicit RecvChan(chan_internal::ChanRef r) noexcept : ref_(std::move(r)) {}

  chan_internal::ChanRef ref_;
};

// SendChan<T>: the send-only view of a channel (Go's chan<- T).
template <typename T>
class SendChan {
 public:
  using value_type = T;

  SendChan() noexcept = default;  // the nil channel
  SendChan(const Chan<T>& c) noexcept : ref_(chan_internal::Access::Ref(c)) {}  // NOLINT: implicit
  SendChan(Chan<T>&& c) noexcept  // NOLINT: implicit
      : ref_(chan_internal::Access::Take(std::move(c))) {}

  // See Chan<T>::Send and Chan<T>::Close.
  void Send(T v, std::source_location where = std::source_location::current()) const {
    chan_internal::Send(ref_.get(), &v, where);
  }
  void Close() const { chan_internal::Close(ref_.get()); }
  size_t Len() const noexcept { return ref_.get() ? ref_.get()->Len() : 0; }
  size_t Cap() const noexcept { return ref_.get() ? ref_.get()->Cap() : 0; }
  explicit operator bool() const noexcept { return ref_.get() != nullptr; }
  friend bool operator==(const SendChan& a, const SendChan& b) noexcept {
    return a.ref_.get() == b.ref_.get();
  }

 private:
  friend struct chan_internal::Access;
  explicit SendChan(chan_internal::ChanRef r) noexcept : ref_(std::move(r)) {}

  chan_internal::ChanRef ref_;
};

// MakeChan returns a new channel with room for `capacity` buffered values
// (0: unbuffered). Throws Panic("makechan: size out of range") if the buffer
// size overflows.
template <typename T>
Chan<T> MakeChan(size_t capacity = 0) {
  static_assert(std::is_move_constructible_v<T>, "channel elements must be movable");
  static_assert(std::is_nothrow_destructible_v<T>, "channel elements must not throw on destruction");
  return chan_internal::Access::Make<Chan<T>>(chan_internal::ChanRef(
      chan_internal::ChanCore::New(&chan_internal::kOpsFor<T>, capacity)));
}

}  // namespace go

// Hashing by identity, so handles can key unordered containers.
template <typename T>
struct std::hash<go::Chan<T>> {
  size_t operator()(const go::Chan<T>& c) const noexcept {
    return std::hash<const void*>()(go::chan_internal::Access::Core(c));
  }
};
template <typename T>
struct std::hash<go::RecvChan<T>> {
  size_t operator()(const go::RecvChan<T>& c) const noexcept {
    return std::hash<const void*>()(go::chan_internal::Access::Core(c));
  }
};
template <typename T>
struct std::hash<go::SendChan<T>> {
  size_t operator()(const go::SendChan<T>& c) const noexcept {
    return std::hash<const void*>()(go::chan_internal::Access::Core(c));
  }
};

#endif  // GO_RUNTIME_CHAN_CHAN_H_
