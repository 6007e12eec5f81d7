// The runtime's small-object allocator (a miniature of Go's mcache /
// mcentral / mheap) for records that packages allocate and free often:
// contexts today.
//
// Why not malloc: on virtual machines the first touch of a fresh 4 KiB page
// costs 10-17 us (docs/PERFORMANCE.md), so a burst of fresh objects is
// bound by page faults, not by the allocator. Here objects are carved from
// 2 MiB-aligned arenas marked MADV_HUGEPAGE: where transparent huge pages
// are enabled ("always" or "madvise"), the whole arena is one fault and one
// page-table entry. Where they are not, the arena is pre-faulted 64 KiB at a
// time with one madvise(MADV_POPULATE_WRITE) instead of a fault per page
// (also with GO_HUGEPAGES=0 in the environment).
//
// Layout of the allocator:
//   size classes  16-byte steps up to kSmallAllocMax (32 classes); larger
//                 requests go to operator new.
//   per-P cache   a free list per class in each P, owner-only [S1]: the
//                 fast paths take no lock and no atomic.
//   central       free lists per class plus the current arena, under one
//                 Lock; a P refills and spills in batches of kSmallBatch.
//                 Threads without a P (plain threads, an M inside a system
//                 call, a bubble's loop thread) use it one object at a time.
// Memory is never returned to the system: freed objects are reused, so a
// workload that keeps N objects alive stays at N objects' worth of arena.
//
// Under AddressSanitizer and ThreadSanitizer every request goes to operator
// new/delete instead, so that the sanitizers see each object's lifetime
// (use after free, leaks, races on reuse); SmallAllocUsesHeap() says so.
#ifndef GO_RUNTIME_SCHED_SMALL_ALLOC_H_
#define GO_RUNTIME_SCHED_SMALL_ALLOC_H_

#include <cstddef>
#include <cstdint>
#include <new>

namespace go::sched {

inline constexpr size_t kSmallAllocMax = 512;
inline constexpr size_t kSmallAllocAlign = 16;
inline constexpr int kSmallClasses = static_cast<int>(kSmallAllocMax / kSmallAllocAlign);
// Objects moved between a P's cache and the central lists at a time.
inline constexpr int kSmallBatch = 32;

// Returns `size` bytes aligned to 16 (any size; 0 counts as 1). Throws
// std::bad_alloc when the system has no memory left. Thread-safe, callable
// from goroutines, plain threads and the scheduler's own stack.
void* SmallAlloc(size_t size);
// Frees p (null: no-op), which SmallAlloc returned for the same `size`.
void SmallFree(void* p, size_t size) noexcept;

// True when SmallAlloc is operator new (sanitizer builds).
bool SmallAllocUsesHeap();

struct SmallAllocStats {
  size_t arena_bytes = 0;    // address space reserved for arenas
  int64_t carved = 0;        // objects ever cut from arenas (all classes)
  bool huge_pages = false;   // arenas are backed by transparent huge pages
};
SmallAllocStats GetSmallAllocStats();

// A P's cache (a member of P; only the P's owner touches it [S1]).
struct SmallCache {
  void* free[kSmallClasses] = {};
  uint16_t count[kSmallClasses] = {};
};
// Moves every cached object to the central lists (a P being destroyed).
void SmallCacheFlush(SmallCache* c);

// An allocator for std::allocate_shared and containers of small nodes.
template <typename T>
struct SmallAllocator {
  using value_type = T;
  SmallAllocator() = default;
  template <typename U>
  SmallAllocator(const SmallAllocator<U>&) {}  // NOLINT: allocator rebinding
  T* allocate(size_t n) {
    static_assert(alignof(T) <= kSmallAllocAlign, "SmallAllocator aligns to 16 bytes");
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(SmallAlloc(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept { SmallFree(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const SmallAllocator<U>&) const { return true; }
};

}  // namespace go::sched

#endif  // GO_RUNTIME_SCHED_SMALL_ALLOC_H_
