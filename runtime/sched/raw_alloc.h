// RawVector: std::vector for the scheduler's internal tables, allocated with
// glibc's __libc_malloc/__libc_free so that the sanitizers' allocator hooks
// never see it. The scheduler is not TSan-instrumented (sanitizers.h); heap
// blocks it frees would otherwise look like racy frees to TSan, because the
// locks that protect them are invisible to it by design.
#ifndef GO_RUNTIME_SCHED_RAW_ALLOC_H_
#define GO_RUNTIME_SCHED_RAW_ALLOC_H_

#include <cstddef>
#include <new>
#include <vector>

extern "C" {
void* __libc_malloc(size_t size);
void __libc_free(void* ptr);
}

namespace go::sched {

template <typename T>
struct RawAllocator {
  using value_type = T;
  RawAllocator() = default;
  template <typename U>
  RawAllocator(const RawAllocator<U>&) {}  // NOLINT: allocator rebinding
  T* allocate(size_t n) {
    void* p = __libc_malloc(n * sizeof(T));
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { __libc_free(p); }
  template <typename U>
  bool operator==(const RawAllocator<U>&) const { return true; }
};

template <typename T>
using RawVector = std::vector<T, RawAllocator<T>>;

}  // namespace go::sched

#endif  // GO_RUNTIME_SCHED_RAW_ALLOC_H_
