// The bare fiber switch (context.h, context_{x86_64,aarch64}.S), without the
// scheduler. No gtest: tools/cross_test.sh compiles this file alone with a
// cross compiler and runs it under qemu-user, so it depends on nothing but
// the C++ and C libraries.
//
// Checks: a fresh fiber starts in entry(arg) on a 16-byte-aligned stack with
// the default floating-point environment; switches preserve the values the
// ABI says survive a call (integer and floating-point, held across switches
// by both sides); each fiber keeps its own rounding mode; many fibers
// round-robin; a fiber's exit switch never returns.
#include <cfenv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "runtime/sched/context.h"

namespace {

int g_failures = 0;

#define EXPECT(cond)                                                        \
  do {                                                                      \
    if (!(cond)) {                                                          \
      std::fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                         \
    }                                                                       \
  } while (0)

struct Fiber {
  std::vector<char> stack = std::vector<char>(256 * 1024);
  void* sp = nullptr;
  void* caller_sp = nullptr;
};

// The compiler must keep these across the switch call in callee-saved
// registers or spill them: either way they must come back intact.
__attribute__((noinline)) void Switch(void** save, void* to) { go_ctx_switch(save, to); }

// --- ping-pong with live values on both sides --------------------------------------------------
struct PingPong {
  Fiber f;
  int rounds = 0;
  int64_t fiber_sum = 0;
  double fiber_fsum = 0;
};

void PingPongEntry(void* arg) {
  auto* pp = static_cast<PingPong*>(arg);
  int64_t a = 1, b = 2, c = 3, d = 4, e = 5, g = 6, h = 7, k = 8, m = 9, n = 10;
  double x = 1.5, y = 2.25, z = 3.125, w = 4.0625, u = 5.5, v = 6.75, s = 7.875, t = 8.5;
  for (int i = 0; i < pp->rounds; i++) {
    Switch(&pp->f.sp, pp->f.caller_sp);
    a += 1; b += 2; c += 3; d += 4; e += 5; g += 6; h += 7; k += 8; m += 9; n += 10;
    x += 1; y += 1; z += 1; w += 1; u += 1; v += 1; s += 1; t += 1;
  }
  pp->fiber_sum = a + b + c + d + e + g + h + k + m + n;
  pp->fiber_fsum = x + y + z + w + u + v + s + t;
  Switch(&pp->f.sp, pp->f.caller_sp);  // exit: never resumed
  std::abort();
}

void TestPingPongPreservesValues() {
  PingPong pp;
  pp.rounds = 100000;
  pp.f.sp = go::sched::MakeContext(pp.f.stack.data() + pp.f.stack.size(), &PingPongEntry, &pp);
  int64_t a = 11, b = 12, c = 13, d = 14, e = 15, g = 16, h = 17, k = 18, m = 19, n = 20;
  double x = 0.5, y = 0.25, z = 0.125, w = 0.0625, u = 0.75, v = 0.875, s = 0.375, t = 0.625;
  for (int i = 0; i <= pp.rounds; i++) {
    Switch(&pp.f.caller_sp, pp.f.sp);
    a -= 1; b -= 1; c -= 1; d -= 1; e -= 1; g -= 1; h -= 1; k -= 1; m -= 1; n -= 1;
    x *= 1; y += 0; z -= 0; w *= 1; u += 0; v -= 0; s *= 1; t += 0;
  }
  const int64_t r = pp.rounds;
  EXPECT(pp.fiber_sum == 55 + 55 * r);
  EXPECT(pp.fiber_fsum == 39.5625 + 8.0 * static_cast<double>(r));
  const int64_t mine = a + b + c + d + e + g + h + k + m + n;
  EXPECT(mine == 155 - 10 * (r + 1));
  EXPECT(x + y + z + w + u + v + s + t == 3.5625);
}

// --- alignment and the floating-point environment of a fresh fiber ----------------------------
struct Fresh {
  Fiber f;
  uintptr_t local_addr = 0;
  int round_at_start = -1;
  int round_after = -1;
};

void FreshEntry(void* arg) {
  auto* fr = static_cast<Fresh*>(arg);
  alignas(16) volatile char probe[16];
  probe[0] = 1;
  fr->local_addr = reinterpret_cast<uintptr_t>(&probe[0]);
  fr->round_at_start = std::fegetround();
  std::fesetround(FE_UPWARD);  // this fiber's own mode from here on
  Switch(&fr->f.sp, fr->f.caller_sp);
  fr->round_after = std::fegetround();  // still ours after the main side changed its own
  std::fesetround(FE_TONEAREST);
  Switch(&fr->f.sp, fr->f.caller_sp);
  std::abort();
}

void TestFreshFiberEnvironment() {
  Fresh fr;
  fr.f.sp = go::sched::MakeContext(fr.f.stack.data() + fr.f.stack.size(), &FreshEntry, &fr);
  std::fesetround(FE_DOWNWARD);  // the creator's mode must not leak into the fiber
  Switch(&fr.f.caller_sp, fr.f.sp);
  EXPECT(fr.local_addr % 16 == 0);
  EXPECT(fr.round_at_start == FE_TONEAREST);
  EXPECT(std::fegetround() == FE_DOWNWARD);  // the fiber's FE_UPWARD stayed with it
  std::fesetround(FE_TOWARDZERO);
  Switch(&fr.f.caller_sp, fr.f.sp);
  EXPECT(fr.round_after == FE_UPWARD);
  EXPECT(std::fegetround() == FE_TOWARDZERO);
  std::fesetround(FE_TONEAREST);
}

// --- many fibers, round-robin ------------------------------------------------------------------
constexpr int kFibers = 8;
constexpr int kSteps = 1000;
struct Ring {
  Fiber fibers[kFibers];
  void* main_sp = nullptr;
  int order[kFibers * kSteps];
  int pos = 0;
};
struct Slot {
  Ring* ring;
  int index;
};

void RingEntry(void* arg) {
  auto* slot = static_cast<Slot*>(arg);
  Ring* ring = slot->ring;
  for (int step = 0; step < kSteps; step++) {
    ring->order[ring->pos++] = slot->index;
    Switch(&ring->fibers[slot->index].sp, ring->main_sp);
  }
  Switch(&ring->fibers[slot->index].sp, ring->main_sp);
  std::abort();
}

void TestRoundRobin() {
  static Ring ring;
  Slot slots[kFibers];
  for (int i = 0; i < kFibers; i++) {
    slots[i] = {&ring, i};
    Fiber& f = ring.fibers[i];
    f.sp = go::sched::MakeContext(f.stack.data() + f.stack.size(), &RingEntry, &slots[i]);
  }
  for (int step = 0; step < kSteps; step++) {
    for (int i = 0; i < kFibers; i++) Switch(&ring.main_sp, ring.fibers[i].sp);
  }
  EXPECT(ring.pos == kFibers * kSteps);
  bool in_order = true;
  for (int j = 0; j < ring.pos; j++) in_order &= ring.order[j] == j % kFibers;
  EXPECT(in_order);
}

}  // namespace

int main() {
  TestPingPongPreservesValues();
  TestFreshFiberEnvironment();
  TestRoundRobin();
  if (g_failures) {
    std::fprintf(stderr, "context_test: %d failure(s)\n", g_failures);
    return 1;
  }
  std::printf("context_test: ok (%s)\n",
#if defined(__x86_64__)
              "x86-64"
#elif defined(__aarch64__)
              "aarch64"
#else
              "unknown architecture"
#endif
  );
  return 0;
}
