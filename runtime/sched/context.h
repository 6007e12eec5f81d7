// Fiber contexts: the machine-level register swap under every goroutine switch.
//
// A context is just a saved stack pointer: go_ctx_switch pushes the
// callee-saved registers and the floating-point control state onto the
// running stack (context_x86_64.S: rbp rbx r12-r15, MXCSR, the x87 control
// word; context_aarch64.S: x19-x30, d8-d15, FPCR), stores the stack pointer,
// and pops the same frame from the target stack. MakeContext lays out such a
// frame on a fresh stack so that the first switch "returns" into
// go_ctx_trampoline, which calls entry(arg).
#ifndef GO_RUNTIME_SCHED_CONTEXT_H_
#define GO_RUNTIME_SCHED_CONTEXT_H_

#include <cstddef>
#include <cstdint>

extern "C" {
void go_ctx_switch(void** save_sp, void* new_sp);
void go_ctx_trampoline();
}

namespace go::sched {

using FiberEntry = void (*)(void* arg);

// Prepares a stack whose highest usable address is `top` so that switching to
// the returned stack pointer calls entry(arg) with a clean frame chain.
inline void* MakeContext(void* top, FiberEntry entry, void* arg) {
#if defined(__x86_64__)
  auto* sp = reinterpret_cast<uint64_t*>(reinterpret_cast<uintptr_t>(top) & ~uintptr_t{15});
  *--sp = 0;                                              // fake return address: ends backtraces
  *--sp = reinterpret_cast<uint64_t>(&go_ctx_trampoline); // popped by `ret`
  *--sp = 0;                                              // rbp
  *--sp = reinterpret_cast<uint64_t>(arg);                // rbx
  *--sp = reinterpret_cast<uint64_t>(entry);              // r12
  *--sp = 0;                                              // r13
  *--sp = 0;                                              // r14
  *--sp = 0;                                              // r15
  // MXCSR (all exceptions masked, round to nearest) and x87 control word
  // (extended precision, exceptions masked): the defaults a new thread gets.
  *--sp = uint64_t{0x1F80} | (uint64_t{0x037F} << 32);
  return sp;
#elif defined(__aarch64__)
  // The frame go_ctx_switch restores (context_aarch64.S): x19-x28, x29, x30,
  // d8-d15, FPCR, padding; 176 bytes below a 16-byte-aligned top.
  constexpr int kFrameWords = 22;
  auto* sp = reinterpret_cast<uint64_t*>(reinterpret_cast<uintptr_t>(top) & ~uintptr_t{15});
  sp -= kFrameWords;
  for (int i = 0; i < kFrameWords; i++) sp[i] = 0;   // FPCR 0: round to nearest, no traps
  sp[0] = reinterpret_cast<uint64_t>(arg);            // x19
  sp[1] = reinterpret_cast<uint64_t>(entry);          // x20
  sp[11] = reinterpret_cast<uint64_t>(&go_ctx_trampoline);  // x30: where `ret` goes
  return sp;
#else
#error "go::sched: no context switch for this architecture yet"
#endif
}

}  // namespace go::sched

#endif  // GO_RUNTIME_SCHED_CONTEXT_H_
