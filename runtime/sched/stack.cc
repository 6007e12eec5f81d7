#include "runtime/sched/stack.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "runtime/sched/lock.h"
#include "runtime/sched/raw_alloc.h"
#include "runtime/sched/sanitizers.h"

namespace go::sched {
namespace {

constexpr size_t kChunkStacks = 64;
constexpr int kGuardBatch = 16;  // guarded stacks mapped per mmap

size_t ReadMaxMapCount() {
  size_t v = 65530;
  if (FILE* f = fopen("/proc/sys/vm/max_map_count", "r")) {
    unsigned long x;
    if (fscanf(f, "%lu", &x) == 1 && x > 1024) v = x;
    fclose(f);
  }
  return v;
}

// How many stacks get a PROT_NONE guard page. Each one is a mapping of its
// own, so the budget is derived from vm.max_map_count (an eighth of it,
// leaving the rest to the program and its libraries); and it is capped,
// because each guard is one mprotect, which takes the kernel's mm lock for
// writing: at 16 Ps, 100k fresh guarded stacks convoyed on that lock
// (bench parked_spawn 8 us per goroutine against 1 us with canaries). The
// first kDefaultGuards stacks, and every reuse of them, stay guarded, which
// covers every program with fewer goroutines alive at once.
// GO_STACK_GUARDS=N asks for another budget (at most a quarter of the map
// limit: chunks of canary stacks need mappings too).
constexpr size_t kDefaultGuards = 4096;

size_t ComputeGuardBudget() {
  const size_t limit = ReadMaxMapCount();
  if (const char* e = getenv("GO_STACK_GUARDS")) {
    char* end = nullptr;
    const long long v = strtoll(e, &end, 10);
    if (end != e && *end == '\0' && v >= 0) return std::min<size_t>(static_cast<size_t>(v), limit / 4);
  }
  return std::min(limit / 8, kDefaultGuards);
}

size_t ComputeStackSize() {
  size_t kib = 256;
  if (const char* e = getenv("GO_STACK_SIZE")) {
    long v = atol(e);
    if (v >= 16 && v <= 1 << 20) kib = static_cast<size_t>(v);
  }
  return (kib * 1024 + kPageSize - 1) & ~(kPageSize - 1);
}

// A free stack's entry in a pool free list, written in the stack's own top
// bytes: the page its last goroutine touched, so resident, and about to be
// the next goroutine's first frame anyway. (Free lists kept in vectors grew
// to one entry per stack ever freed, and their reallocations, copies and
// fresh pages were 14% of bench context_tree_cancel, where 10,000 goroutines
// exit at once. Go's stack pool also links free stacks through themselves.)
struct FreeStack {
  Stack stack;
  FreeStack* next;
};

FreeStack* NodeOf(const Stack& s) {
  return reinterpret_cast<FreeStack*>(s.hi - sizeof(FreeStack));
}

// An intrusive LIFO of free stacks [pool lock held].
struct FreeList {
  FreeStack* head = nullptr;
  size_t size = 0;
  bool empty() const { return head == nullptr; }
  void Push(const Stack& s) {
    FreeStack* n = NodeOf(s);
    // The exited goroutine's frames may have left ASan poison there.
    san::Unpoison(n, sizeof(FreeStack));
    n->stack = s;
    n->next = head;
    head = n;
    size++;
  }
  Stack Pop() {
    FreeStack* n = head;
    head = n->next;
    size--;
    return n->stack;
  }
};

struct Pool {
  Lock lock;
  FreeList guarded;    // free guarded stacks (preferred)
  FreeList unguarded;  // free canary stacks
  RawVector<Stack> fresh_guarded;  // guarded, never used (mapped in batches)
  RawVector<Stack> carve;      // fresh unguarded slots from the current chunk
  size_t mapped = 0;
  size_t guarded_count = 0;
  size_t guard_budget = 0;
};

Pool& pool() {
  static Pool* p = [] {
    auto* p = new Pool;  // leaked on purpose: stacks outlive static destruction
    p->guard_budget = ComputeGuardBudget();
    return p;
  }();
  return *p;
}

[[noreturn]] void OutOfMemory(size_t bytes) {
  fprintf(stderr, "fatal error: runtime: cannot allocate %zu bytes of goroutine stack\n", bytes);
  _exit(2);
}

// Pre-faults the top page of a fresh stack: its first frame is written at
// once anyway.
void PopulateTop(const Stack& s) { PopulatePages(s.hi - kPageSize, kPageSize); }

// Maps n guarded stacks with one mmap and n mprotects (each guard page is a
// VMA of its own either way, so batching costs no extra map entries; it saves
// n-1 mmap calls, each of which takes the kernel's mm lock for writing).
// False if the mmap failed. A stack whose guard could not be set (the map
// limit reached meanwhile) comes back as a canary stack, counted in
// *unguarded.
bool MapGuardedBatch(size_t size, int n, Stack* out, int* unguarded) {
  *unguarded = 0;
  void* m = mmap(nullptr, size * static_cast<size_t>(n), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return false;
  char* base = static_cast<char*>(m);
  for (int i = 0; i < n; i++) {
    char* slot = base + static_cast<size_t>(i) * size;
    if (*unguarded == 0 && mprotect(slot, kPageSize, PROT_NONE) == 0) {
      out[i] = Stack{slot + kPageSize, slot + size, slot, true};
    } else {
      out[i] = Stack{slot + kCanaryBytes, slot + size, slot, false};
      ++*unguarded;
    }
  }
  return true;
}

// A fresh mapping of kChunkStacks canary stacks (one mmap, one VMA).
char* MapChunk(size_t size) {
  void* m = mmap(nullptr, size * kChunkStacks, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) OutOfMemory(size * kChunkStacks);
  return static_cast<char*>(m);
}

void AddChunk(Pool& p, char* base, size_t size) {
  // Hand out the highest slots first so the vector pops them in address order.
  for (size_t i = kChunkStacks; i-- > 0;) {
    char* slot = base + i * size;
    p.carve.push_back(Stack{slot + kCanaryBytes, slot + size, slot, false});
  }
}

}  // namespace

void PopulatePages(void* addr, size_t len) {
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
  madvise(addr, len, MADV_POPULATE_WRITE);  // EINVAL before Linux 5.14: faults as before
}

size_t StackSize() {
  static const size_t size = ComputeStackSize();
  return size;
}

Stack StackAlloc() {
  san::IgnoreAccesses no_tsan;  // runtime-internal table (sanitizers.h)
  Pool& p = pool();
  const size_t size = StackSize();
  // System calls (mmap, mprotect, madvise) happen outside p.lock: they take
  // the kernel's mm lock and can sleep, and an M waiting here for p.lock
  // goes to its futex. (Populating under the lock made spawn-heavy runs
  // convoy on it: 65k futex calls per 100k fresh stacks in bench parked.)
  for (;;) {
    p.lock.lock();
    if (!p.guarded.empty()) {  // reused: its top page is resident already
      Stack s = p.guarded.Pop();
      p.lock.unlock();
      return s;
    }
    if (!p.fresh_guarded.empty()) {
      Stack s = p.fresh_guarded.back();
      p.fresh_guarded.pop_back();
      p.mapped++;
      p.lock.unlock();
      PopulateTop(s);
      return s;
    }
    if (p.guarded_count < p.guard_budget) {
      const int n = static_cast<int>(
          std::min<size_t>(kGuardBatch, p.guard_budget - p.guarded_count));
      p.guarded_count += static_cast<size_t>(n);  // reserve; map unlocked
      p.lock.unlock();
      Stack batch[kGuardBatch];
      int unguarded = 0;
      const bool mapped = MapGuardedBatch(size, n, batch, &unguarded);
      p.lock.lock();
      if (!mapped || unguarded > 0) {
        // The map limit was reached (by us or by someone else): stop guarding.
        p.guarded_count -= static_cast<size_t>(mapped ? unguarded : n);
        p.guard_budget = p.guarded_count;
      }
      for (int k = mapped ? n : 0; k-- > 0;) {
        (batch[k].guarded ? p.fresh_guarded : p.carve).push_back(batch[k]);
      }
      p.lock.unlock();
      continue;  // take one of them
    }
    if (!p.unguarded.empty()) {
      Stack s = p.unguarded.Pop();
      p.lock.unlock();
      return s;
    }
    if (!p.carve.empty()) {
      Stack s = p.carve.back();
      p.carve.pop_back();
      p.mapped++;
      p.lock.unlock();
      PopulateTop(s);
      return s;
    }
    p.lock.unlock();
    // Map a chunk unlocked, then offer its slots (another M may have done
    // the same meanwhile: both chunks are used).
    char* chunk = MapChunk(size);
    p.lock.lock();
    AddChunk(p, chunk, size);
    p.lock.unlock();
  }
}

namespace {

// Under TSan: fresh pages (and fresh TSan shadow) for the next goroutine:
// mapping over the old range makes TSan forget the dead fiber's accesses,
// which would otherwise look like races with the next fiber on this stack.
void ForgetForTsan(const Stack& s) {
  san::IgnoreAccesses ignore;
  void* m = mmap(s.base, static_cast<size_t>(s.hi - s.base), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  if (m == MAP_FAILED) OutOfMemory(static_cast<size_t>(s.hi - s.base));
  if (s.guarded) mprotect(s.base, kPageSize, PROT_NONE);
}

}  // namespace

void StackFree(Stack s) { StackFreeBatch(&s, 1); }

void StackFreeBatch(const Stack* s, size_t n) {
  if (san::TsanActive()) {
    for (size_t i = 0; i < n; i++) ForgetForTsan(s[i]);
  }
  san::IgnoreAccesses no_tsan;
  Pool& p = pool();
  LockGuard g(p.lock);
  for (size_t i = 0; i < n; i++) (s[i].guarded ? p.guarded : p.unguarded).Push(s[i]);
}

bool StackIntact(const Stack& s, const void* sp) {
  auto a = reinterpret_cast<const char*>(sp);
  if (a < s.lo + kStackRedZone || a > s.hi) return false;
  if (s.guarded) return true;
  // Read the canary only when the stack pointer has come within
  // kCanaryWatchBytes of it: reading a never-touched page costs a page fault
  // and, on some kernels, a resident page per goroutine. A goroutine whose
  // frames stayed far from the bottom cannot have reached the canary unless
  // one frame jumped over it (the documented limit of canary stacks).
  if (a > s.base + kCanaryWatchBytes) return true;
  // The canary is "still zero": an untouched page reads as zeros without
  // becoming resident. Checked word by word to stay cheap.
  const auto* w = reinterpret_cast<const volatile uint64_t*>(s.base);
  for (size_t i = 0; i < kCanaryBytes / sizeof(uint64_t); ++i) {
    if (w[i] != 0) return false;
  }
  return true;
}

StackStats GetStackStats() {
  Pool& p = pool();
  LockGuard g(p.lock);
  return StackStats{p.mapped, p.guarded_count, p.guard_budget,
                    p.guarded.size + p.unguarded.size};
}

}  // namespace go::sched
