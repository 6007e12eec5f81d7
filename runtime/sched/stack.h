// Goroutine stacks: fixed-size, lazily committed, pooled.
//
// Every stack is `StackSize()` bytes of address space (default 256 KiB, env
// GO_STACK_SIZE in KiB) mapped with MAP_NORESERVE, so only the pages a
// goroutine touches become resident: a parked goroutine typically costs one
// 4 KiB page.
//
// Overflow detection has two tiers, because Linux limits a process to
// vm.max_map_count mappings (65530 on a stock kernel) and every PROT_NONE
// guard page inside a larger mapping splits it into more mappings:
//   * Guarded stacks: the lowest page is PROT_NONE. An overflow faults there,
//     the SIGSEGV handler (running on an alternate signal stack) recognises
//     the address and prints "fatal error: goroutine N stack overflow".
//     The number of guarded stacks is capped at a budget derived from
//     vm.max_map_count (an eighth of it), and guarded stacks are handed out
//     first and preferred on reuse.
//   * Canary stacks: beyond the budget, stacks are carved from 64-stack
//     chunks (one mapping per chunk). Their lowest kCanaryBytes must stay
//     zero; the scheduler checks the saved stack pointer every time the
//     goroutine switches out, and the canary itself once that pointer has
//     come within kCanaryWatchBytes of it (reading a never-touched page costs
//     a fault and, on some kernels, a resident page, so it is not read for
//     goroutines that stay shallow). An overflow that jumps over the canary
//     and never switches out near it can go undetected: that is the price of
//     not raising the kernel limit (docs/runtime/scheduler.md).
// Stacks are never unmapped; exited goroutines return them to a per-P cache
// and then to a global pool, whose free lists live in the free stacks
// themselves (each one's descriptor is written in its own top bytes, on the
// page its last goroutine left resident), so freeing never allocates.
#ifndef GO_RUNTIME_SCHED_STACK_H_
#define GO_RUNTIME_SCHED_STACK_H_

#include <cstddef>
#include <cstdint>

namespace go::sched {

struct Stack {
  char* lo = nullptr;   // lowest usable address (above guard / canary)
  char* hi = nullptr;   // one past the highest usable address
  char* base = nullptr; // lowest address of the whole slot (guard or canary)
  bool guarded = false;
  explicit operator bool() const { return lo != nullptr; }
};

inline constexpr size_t kPageSize = 4096;
inline constexpr size_t kCanaryBytes = 64;
// The canary is read only while the saved stack pointer is this close to it.
inline constexpr size_t kCanaryWatchBytes = 32 * 1024;
// Stack left below the saved SP at every switch-out, or it counts as overflow.
inline constexpr size_t kStackRedZone = 256;

size_t StackSize();
// Pre-faults [addr, addr + len) for writing (MADV_POPULATE_WRITE, Linux
// 5.14+; a no-op elsewhere): one system call for the range instead of a
// page fault per page, several times cheaper on virtual machines.
void PopulatePages(void* addr, size_t len);
// Allocates from the global pool or maps new memory. Thread-safe.
Stack StackAlloc();
// Returns a stack to the global pool. Thread-safe.
void StackFree(Stack s);
// Returns n stacks to the global pool under one acquisition of its lock.
void StackFreeBatch(const Stack* s, size_t n);
// True when the canary of an unguarded stack is intact and sp is in bounds.
bool StackIntact(const Stack& s, const void* sp);
// True when addr lies in the guard page of s.
inline bool InGuardPage(const Stack& s, const void* addr) {
  auto a = reinterpret_cast<const char*>(addr);
  return s.guarded && a >= s.base && a < s.lo;
}
// Statistics for tests and docs.
struct StackStats {
  size_t mapped_stacks, guarded_stacks, guard_budget, pooled;
};
StackStats GetStackStats();

}  // namespace go::sched

#endif  // GO_RUNTIME_SCHED_STACK_H_
