// Package atomic: Go's sync/atomic types (Go 1.19's typed API).
//
//   Int32 Int64 Uint32 Uint64   Load Store Swap CompareAndSwap Add (+ And Or)
//   Bool                        Load Store Swap CompareAndSwap
//   Pointer<T>                  Load Store Swap CompareAndSwap on a T*
//   Value<T>                    Load Store Swap CompareAndSwap on any copyable T
//
// Every operation is sequentially consistent, as in Go: all atomic operations
// of a program behave as if executed in one total order that every goroutine
// and thread agrees on.
//
// Memory ordering: if the effect of an atomic operation A is observed by an
// atomic operation B, then A happens before B, and so does everything the
// goroutine of A did before A. For example, if goroutine X writes data and
// then flag.Store(true), and goroutine Y sees flag.Load() == true, Y sees the
// data. ThreadSanitizer understands all of it (the types are std::atomic).
//
// Like Go's, these types must not be copied or moved after first use; here
// the compiler enforces it (copy and move are deleted).
//
// Value<T> picks its representation at compile time:
//   * lock-free: T fits a lock-free std::atomic and its == agrees with its
//     bytes (integers, enums, pointers, small structs without padding):
//     a plain std::atomic<T>;
//   * seqlock: other trivially copyable T (e.g. a 32-byte struct). Readers
//     never write shared memory: they copy the words and retry if a writer
//     overlapped; writers take the sequence word's lock bit. Load is
//     wait-free unless it overlaps a Store;
//   * locked: T with a non-trivial copy (std::string, std::vector...). A
//     tiny spinlock guards the copy; a contended spinner yields its thread.
//     The lock is held only while T is copied, compared or assigned, never
//     across a blocking call (T's copy must not block).
// CompareAndSwap(old, new) compares with T's operator== (as Go compares
// interface values with ==), so T must be equality comparable to use it.
#ifndef GO_RUNTIME_ATOMIC_ATOMIC_H_
#define GO_RUNTIME_ATOMIC_ATOMIC_H_

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <type_traits>
#include <utility>

namespace go::atomic {

namespace internal {

// Shared implementation of the integer types. Add returns the new value (as
// Go's AddInt32 does); And and Or return the old value (Go 1.23).
template <typename I>
class Integer {
 public:
  constexpr Integer() noexcept = default;
  constexpr explicit Integer(I v) noexcept : v_(v) {}
  Integer(const Integer&) = delete;
  Integer& operator=(const Integer&) = delete;

  // Load atomically loads and returns the value.
  I Load() const noexcept { return v_.load(std::memory_order_seq_cst); }
  // Store atomically stores v.
  void Store(I v) noexcept { v_.store(v, std::memory_order_seq_cst); }
  // Swap atomically stores v and returns the previous value.
  I Swap(I v) noexcept { return v_.exchange(v, std::memory_order_seq_cst); }
  // CompareAndSwap stores desired if the value is old; reports whether it did.
  bool CompareAndSwap(I old, I desired) noexcept {
    return v_.compare_exchange_strong(old, desired, std::memory_order_seq_cst);
  }
  // Add atomically adds delta (wrapping on overflow) and returns the new value.
  // (fetch_add wraps by definition; the "+ delta" that recomputes the new
  // value is done unsigned, because a signed overflow there would be
  // undefined behaviour, which UBSan reports.)
  I Add(I delta) noexcept {
    using U = std::make_unsigned_t<I>;
    const I old = v_.fetch_add(delta, std::memory_order_seq_cst);
    return static_cast<I>(static_cast<U>(old) + static_cast<U>(delta));
  }
  // And atomically ANDs in mask and returns the old value.
  I And(I mask) noexcept { return v_.fetch_and(mask, std::memory_order_seq_cst); }
  // Or atomically ORs in mask and returns the old value.
  I Or(I mask) noexcept { return v_.fetch_or(mask, std::memory_order_seq_cst); }

 private:
  std::atomic<I> v_{0};
};

// How Value<T> stores a T (see the file comment).
enum class ValueRepr { kLockFree, kSeqlock, kLocked };

template <typename T>
constexpr ValueRepr ReprFor() {
  if constexpr (std::is_trivially_copyable_v<T> && sizeof(T) <= 8 &&
                (std::is_scalar_v<T> || std::has_unique_object_representations_v<T>)) {
    // std::atomic<float/double> compares bytes too; that is fine except for
    // NaN and -0.0, where Go's == differs from a byte compare. Floats take
    // the seqlock so CompareAndSwap uses ==.
    if constexpr (!std::is_floating_point_v<T> && std::atomic<T>::is_always_lock_free) {
      return ValueRepr::kLockFree;
    }
  }
  if constexpr (std::is_trivially_copyable_v<T>) {
    return ValueRepr::kSeqlock;
  } else {
    return ValueRepr::kLocked;
  }
}

// A test-and-test-and-set lock for Value's slow representations. Holders
// never block, so a short spin almost always suffices; beyond it the
// spinner yields its thread (a goroutine holder may be descheduled by the OS,
// never by another goroutine, because the critical sections never yield).
class SpinLock {
 public:
  void lock() noexcept {
    for (int spins = 0;; spins++) {
      if (!locked_.load(std::memory_order_relaxed) &&
          !locked_.exchange(true, std::memory_order_acquire)) {
        return;
      }
      if (spins >= 64) std::this_thread::yield();
    }
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace internal

// Int32 is an atomic int32_t.
using Int32 = internal::Integer<int32_t>;
// Int64 is an atomic int64_t.
using Int64 = internal::Integer<int64_t>;
// Uint32 is an atomic uint32_t.
using Uint32 = internal::Integer<uint32_t>;
// Uint64 is an atomic uint64_t.
using Uint64 = internal::Integer<uint64_t>;

// Bool is an atomic boolean.
class Bool {
 public:
  constexpr Bool() noexcept = default;
  constexpr explicit Bool(bool v) noexcept : v_(v) {}
  Bool(const Bool&) = delete;
  Bool& operator=(const Bool&) = delete;

  // Load atomically loads and returns the value.
  bool Load() const noexcept { return v_.load(std::memory_order_seq_cst); }
  // Store atomically stores v.
  void Store(bool v) noexcept { v_.store(v, std::memory_order_seq_cst); }
  // Swap atomically stores v and returns the previous value.
  bool Swap(bool v) noexcept { return v_.exchange(v, std::memory_order_seq_cst); }
  // CompareAndSwap stores desired if the value is old; reports whether it did.
  bool CompareAndSwap(bool old, bool desired) noexcept {
    return v_.compare_exchange_strong(old, desired, std::memory_order_seq_cst);
  }

 private:
  std::atomic<bool> v_{false};
};

// Pointer<T> is an atomic T*. It does not own the pointee.
template <typename T>
class Pointer {
 public:
  constexpr Pointer() noexcept = default;
  constexpr explicit Pointer(T* p) noexcept : v_(p) {}
  Pointer(const Pointer&) = delete;
  Pointer& operator=(const Pointer&) = delete;

  // Load atomically loads and returns the pointer (nullptr if never stored).
  T* Load() const noexcept { return v_.load(std::memory_order_seq_cst); }
  // Store atomically stores p.
  void Store(T* p) noexcept { v_.store(p, std::memory_order_seq_cst); }
  // Swap atomically stores p and returns the previous pointer.
  T* Swap(T* p) noexcept { return v_.exchange(p, std::memory_order_seq_cst); }
  // CompareAndSwap stores desired if the pointer is old; reports whether it did.
  bool CompareAndSwap(T* old, T* desired) noexcept {
    return v_.compare_exchange_strong(old, desired, std::memory_order_seq_cst);
  }

 private:
  std::atomic<T*> v_{nullptr};
};

// Value<T> holds a T that is loaded and stored atomically. T must be copy
// constructible and copy assignable; a default-constructed Value holds T{}
// (Go's Value holds nil until the first Store; here the "nil" is T{}).
template <typename T>
class Value {
  static_assert(std::is_copy_constructible_v<T> && std::is_copy_assignable_v<T>,
                "go::atomic::Value<T> needs a copyable T");
  static constexpr internal::ValueRepr kRepr = internal::ReprFor<T>();

 public:
  Value() requires std::default_initializable<T> : Value(T{}) {}
  explicit Value(const T& v) { Init(v); }
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;
  ~Value() {
    if constexpr (kRepr == internal::ValueRepr::kLocked) v_.~T();
  }

  // Load returns a copy of the value last stored.
  T Load() const {
    if constexpr (kRepr == internal::ValueRepr::kLockFree) {
      return a_.load(std::memory_order_seq_cst);
    } else if constexpr (kRepr == internal::ValueRepr::kSeqlock) {
      return SeqRead();
    } else {
      std::lock_guard<internal::SpinLock> l(lock_);
      return v_;
    }
  }

  // Store atomically replaces the value with v.
  void Store(const T& v) {
    if constexpr (kRepr == internal::ValueRepr::kLockFree) {
      a_.store(v, std::memory_order_seq_cst);
    } else if constexpr (kRepr == internal::ValueRepr::kSeqlock) {
      uint64_t s = SeqLock();
      SeqWrite(v);
      seq_.store(s + 2, std::memory_order_seq_cst);
    } else {
      std::lock_guard<internal::SpinLock> l(lock_);
      v_ = v;
    }
  }

  // Swap stores v and returns the previous value.
  T Swap(const T& v) {
    if constexpr (kRepr == internal::ValueRepr::kLockFree) {
      return a_.exchange(v, std::memory_order_seq_cst);
    } else if constexpr (kRepr == internal::ValueRepr::kSeqlock) {
      uint64_t s = SeqLock();
      T old = RawRead();
      SeqWrite(v);
      seq_.store(s + 2, std::memory_order_seq_cst);
      return old;
    } else {
      std::lock_guard<internal::SpinLock> l(lock_);
      T old = v_;
      v_ = v;
      return old;
    }
  }

  // CompareAndSwap stores desired if the current value == old; reports
  // whether it did.
  bool CompareAndSwap(const T& old, const T& desired) requires std::equality_comparable<T> {
    if constexpr (kRepr == internal::ValueRepr::kLockFree) {
      T expected = old;
      return a_.compare_exchange_strong(expected, desired, std::memory_order_seq_cst);
    } else if constexpr (kRepr == internal::ValueRepr::kSeqlock) {
      // Fails fast without taking the lock when a snapshot already differs.
      if (!(SeqRead() == old)) return false;
      uint64_t s = SeqLock();
      bool swap = RawRead() == old;
      if (swap) SeqWrite(desired);
      seq_.store(swap ? s + 2 : s, std::memory_order_seq_cst);
      return swap;
    } else {
      std::lock_guard<internal::SpinLock> l(lock_);
      if (!(v_ == old)) return false;
      v_ = desired;
      return true;
    }
  }

 private:
  // --- seqlock representation -------------------------------------------
  // seq_ is even when stable; a writer makes it odd (its lock), writes the
  // words, then publishes seq+2. A reader copies the words between two loads
  // of seq_ and retries if they differ or are odd. The words are atomics so
  // a torn read is never a data race (and ThreadSanitizer agrees); seq_cst
  // loads keep the second seq_ load after the word loads, and the writer's
  // seq_cst stores keep the words after the odd seq_ store.
  static constexpr size_t kWords = (sizeof(T) + 7) / 8;

  uint64_t SeqLock() {
    for (int spins = 0;; spins++) {
      uint64_t s = seq_.load(std::memory_order_relaxed);
      if ((s & 1) == 0 && seq_.compare_exchange_weak(s, s + 1, std::memory_order_seq_cst)) {
        return s;
      }
      if (spins >= 64) std::this_thread::yield();
    }
  }
  T RawRead() const {
    uint64_t buf[kWords];
    for (size_t i = 0; i < kWords; i++) buf[i] = words_[i].load(std::memory_order_seq_cst);
    // T need not be default constructible: copy into a union member (a
    // trivially copyable T comes to life by the memcpy).
    union U {
      U() {}
      T t;
    } u;
    std::memcpy(static_cast<void*>(&u.t), buf, sizeof(T));
    return u.t;
  }
  T SeqRead() const {
    for (int spins = 0;; spins++) {
      uint64_t s0 = seq_.load(std::memory_order_seq_cst);
      if ((s0 & 1) == 0) {
        T out = RawRead();
        if (seq_.load(std::memory_order_seq_cst) == s0) return out;
      }
      if (spins >= 64) std::this_thread::yield();
    }
  }
  void SeqWrite(const T& v) {
    uint64_t buf[kWords] = {};
    std::memcpy(buf, static_cast<const void*>(&v), sizeof(T));
    for (size_t i = 0; i < kWords; i++) words_[i].store(buf[i], std::memory_order_seq_cst);
  }

  void Init(const T& v) {
    if constexpr (kRepr == internal::ValueRepr::kLockFree) {
      a_.store(v, std::memory_order_relaxed);
    } else if constexpr (kRepr == internal::ValueRepr::kSeqlock) {
      SeqWrite(v);
    } else {
      ::new (static_cast<void*>(&v_)) T(v);
    }
  }

  struct Empty {};
  struct SeqStorage {
    std::atomic<uint64_t> seq{0};
    std::atomic<uint64_t> words[kWords];
  };
  // Exactly one representation is live; the others are empty members.
  [[no_unique_address]] std::conditional_t<kRepr == internal::ValueRepr::kLockFree,
                                           std::atomic<T>, Empty> a_;
  [[no_unique_address]] std::conditional_t<kRepr == internal::ValueRepr::kSeqlock,
                                           std::atomic<uint64_t>, Empty> seq_;
  [[no_unique_address]] std::conditional_t<kRepr == internal::ValueRepr::kSeqlock,
                                           std::atomic<uint64_t>[kWords], Empty> words_;
  [[no_unique_address]] mutable std::conditional_t<kRepr == internal::ValueRepr::kLocked,
                                                   internal::SpinLock, Empty> lock_;
  union {
    // Constructed in Init for the locked representation only.
    std::conditional_t<kRepr == internal::ValueRepr::kLocked, T, Empty> v_;
  };
};

}  // namespace go::atomic

#endif  // GO_RUNTIME_ATOMIC_ATOMIC_H_
