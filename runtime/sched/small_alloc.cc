// The small-object allocator (small_alloc.h).
//
// Invariants:
//   [A1] A free object's first word links it into exactly one free list: a
//        P's cache for its class (owner-only, [S1]) or the central list for
//        its class (under Central::lock). Objects are never in two lists and
//        never change class.
//   [A2] Arena memory in [Central::next, Central::end) has never been handed
//        out. Carving moves `next` up under the lock; the objects carved are
//        then touched (linked, populated) outside it, by the carver alone.
//   [A3] No system call that can sleep (madvise populate, the first touch
//        of a huge page) happens under Central::lock, except mmap/munmap of
//        a new arena, once per 2 MiB.
#include "runtime/sched/small_alloc.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "absl/base/thread_annotations.h"
#include "runtime/sched/lock.h"
#include "runtime/sched/sanitizers.h"
#include "runtime/sched/sched_internal.h"
#include "runtime/sched/stack.h"

namespace go::sched {
namespace {

// One arena is one PMD-sized huge page on x86-64 and on AArch64 with 4 KiB
// base pages.
constexpr size_t kArenaBytes = size_t{2} << 20;
// Without huge pages, arenas are pre-faulted this much at a time.
constexpr size_t kPopulateBytes = size_t{64} << 10;

struct FreeObj {
  FreeObj* next;
};

int ClassOf(size_t size) {
  if (size == 0) size = 1;
  return static_cast<int>((size + kSmallAllocAlign - 1) / kSmallAllocAlign) - 1;
}
size_t ClassSize(int c) { return static_cast<size_t>(c + 1) * kSmallAllocAlign; }

bool UseHeap() {
#ifdef GO_ASAN
  return true;
#else
  return san::TsanActive();
#endif
}

// Reads a small sysfs file; empty on failure.
void ReadSysfs(const char* path, char* buf, size_t len) {
  buf[0] = '\0';
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  buf[n > 0 ? n : 0] = '\0';
}

// Whether a 2 MiB arena marked MADV_HUGEPAGE gets a huge page on first
// touch: THP is "always" or "madvise", and the huge page is 2 MiB. The
// environment can say no (GO_HUGEPAGES=0): resident memory then grows in
// 64 KiB steps instead of 2 MiB ones.
bool HugePagesUsable() {
  if (const char* e = getenv("GO_HUGEPAGES"); e != nullptr && strcmp(e, "0") == 0) return false;
  char mode[128], size[32];
  ReadSysfs("/sys/kernel/mm/transparent_hugepage/enabled", mode, sizeof mode);
  ReadSysfs("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", size, sizeof size);
  const bool on = strstr(mode, "[always]") != nullptr || strstr(mode, "[madvise]") != nullptr;
  return on && strtoull(size, nullptr, 10) == kArenaBytes;
}

struct Central {
  Lock lock;
  FreeObj* free[kSmallClasses] ABSL_GUARDED_BY(lock) = {};
  // The arena being carved [A2], and (without huge pages) how far it has
  // been populated.
  char* next ABSL_GUARDED_BY(lock) = nullptr;
  char* end ABSL_GUARDED_BY(lock) = nullptr;
  char* populated ABSL_GUARDED_BY(lock) = nullptr;
  const bool huge = HugePagesUsable();
  std::atomic<size_t> arena_bytes{0};
  std::atomic<int64_t> carved{0};
};

// Never destroyed: objects may be freed by static destructors and by
// threads that outlive them.
Central& central() {
  static Central* c = new Central;
  return *c;
}

// Maps a fresh 2 MiB-aligned arena [lock held: rare, see A3].
void NewArenaLocked(Central& ce) ABSL_EXCLUSIVE_LOCKS_REQUIRED(ce.lock) {
  void* m = mmap(nullptr, 2 * kArenaBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  // Trim to an aligned 2 MiB, so that the whole arena can be one huge page.
  const uintptr_t raw = reinterpret_cast<uintptr_t>(m);
  const uintptr_t aligned = (raw + kArenaBytes - 1) & ~(kArenaBytes - 1);
  if (aligned > raw) munmap(m, aligned - raw);
  const uintptr_t tail = raw + 2 * kArenaBytes - (aligned + kArenaBytes);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + kArenaBytes), tail);
  char* a = reinterpret_cast<char*>(aligned);
  if (ce.huge) madvise(a, kArenaBytes, MADV_HUGEPAGE);
  ce.next = ce.populated = a;
  ce.end = a + kArenaBytes;
  ce.arena_bytes.fetch_add(kArenaBytes, std::memory_order_relaxed);
}

// A run of n never-used objects of class c, contiguous in an arena. What
// must be populated before use (no huge pages) is returned in *pop_from and
// *pop_len, for the caller to do outside the lock [A3].
char* CarveLocked(Central& ce, int c, int n, char** pop_from, size_t* pop_len)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(ce.lock) {
  const size_t bytes = ClassSize(c) * static_cast<size_t>(n);
  if (ce.next == nullptr || static_cast<size_t>(ce.end - ce.next) < bytes) {
    NewArenaLocked(ce);  // the old arena's tail (< one run) is left unused
  }
  char* run = ce.next;
  ce.next += bytes;
  ce.carved.fetch_add(n, std::memory_order_relaxed);
  *pop_len = 0;
  if (!ce.huge && ce.next > ce.populated) {
    *pop_from = ce.populated;
    ce.populated = std::min(ce.end, std::max(ce.populated + kPopulateBytes, ce.next));
    *pop_len = static_cast<size_t>(ce.populated - *pop_from);
  }
  return run;
}

// Allocation for a thread without a P: one object through the central list.
void* AllocCentral(int c) {
  Central& ce = central();
  char* run;
  char* pop_from = nullptr;
  size_t pop_len;
  {
    LockGuard l(ce.lock);
    if (FreeObj* o = ce.free[c]) {
      ce.free[c] = o->next;
      return o;
    }
    run = CarveLocked(ce, c, 1, &pop_from, &pop_len);
  }
  if (pop_len > 0) PopulatePages(pop_from, pop_len);
  return run;
}

// The P's list for class c is empty: takes a batch from the central list,
// or carves a fresh one, keeps all but one object and returns that one.
void* RefillAndAlloc(SmallCache* sc, int c) {
  Central& ce = central();
  FreeObj* batch = nullptr;
  int n = 0;
  char* run = nullptr;
  char* pop_from = nullptr;
  size_t pop_len = 0;
  {
    LockGuard l(ce.lock);
    if (FreeObj* head = ce.free[c]) {
      FreeObj* last = head;
      for (n = 1; n < kSmallBatch && last->next != nullptr; n++) last = last->next;
      ce.free[c] = last->next;
      last->next = nullptr;
      batch = head;
    } else {
      run = CarveLocked(ce, c, kSmallBatch, &pop_from, &pop_len);
    }
  }
  if (run != nullptr) {
    if (pop_len > 0) PopulatePages(pop_from, pop_len);
    // Link objects 1..kSmallBatch-1 in address order; object 0 is returned.
    const size_t size = ClassSize(c);
    for (int i = kSmallBatch - 1; i >= 1; i--) {
      auto* o = reinterpret_cast<FreeObj*>(run + static_cast<size_t>(i) * size);
      o->next = batch;
      batch = o;
    }
    sc->free[c] = batch;
    sc->count[c] = kSmallBatch - 1;
    return run;
  }
  sc->free[c] = batch->next;
  sc->count[c] = static_cast<uint16_t>(n - 1);
  return batch;
}

// Moves the oldest part of a P's list for class c to the central list,
// keeping kSmallBatch (the most recently freed, likeliest in cache).
void Spill(SmallCache* sc, int c) {
  auto* keep_last = static_cast<FreeObj*>(sc->free[c]);
  for (int i = 1; i < kSmallBatch; i++) keep_last = keep_last->next;
  FreeObj* spill = keep_last->next;
  keep_last->next = nullptr;
  FreeObj* spill_last = spill;
  while (spill_last->next != nullptr) spill_last = spill_last->next;
  sc->count[c] = kSmallBatch;
  Central& ce = central();
  LockGuard l(ce.lock);
  spill_last->next = ce.free[c];
  ce.free[c] = spill;
}

}  // namespace

bool SmallAllocUsesHeap() { return UseHeap(); }

void* SmallAlloc(size_t size) {
  if (size > kSmallAllocMax || UseHeap()) return ::operator new(size);
  const int c = ClassOf(size);
  if (P* p = OwnedP()) {
    SmallCache& sc = p->small_cache;
    if (auto* o = static_cast<FreeObj*>(sc.free[c])) {  // [A1]
      sc.free[c] = o->next;
      sc.count[c]--;
      return o;
    }
    return RefillAndAlloc(&sc, c);
  }
  return AllocCentral(c);
}

void SmallFree(void* ptr, size_t size) noexcept {
  if (ptr == nullptr) return;
  if (size > kSmallAllocMax || UseHeap()) {
    ::operator delete(ptr);
    return;
  }
  const int c = ClassOf(size);
  auto* o = static_cast<FreeObj*>(ptr);
  if (P* p = OwnedP()) {
    SmallCache& sc = p->small_cache;
    o->next = static_cast<FreeObj*>(sc.free[c]);
    sc.free[c] = o;
    if (++sc.count[c] >= 2 * kSmallBatch) Spill(&sc, c);
    return;
  }
  Central& ce = central();
  LockGuard l(ce.lock);
  o->next = ce.free[c];
  ce.free[c] = o;
}

void SmallCacheFlush(SmallCache* sc) {
  Central& ce = central();
  LockGuard l(ce.lock);
  for (int c = 0; c < kSmallClasses; c++) {
    while (auto* o = static_cast<FreeObj*>(sc->free[c])) {
      sc->free[c] = o->next;
      o->next = ce.free[c];
      ce.free[c] = o;
    }
    sc->count[c] = 0;
  }
}

SmallAllocStats GetSmallAllocStats() {
  Central& ce = central();
  SmallAllocStats s;
  s.arena_bytes = ce.arena_bytes.load(std::memory_order_relaxed);
  s.carved = ce.carved.load(std::memory_order_relaxed);
  s.huge_pages = ce.huge;
  return s;
}

}  // namespace go::sched
