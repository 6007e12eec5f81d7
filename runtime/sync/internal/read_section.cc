// Read sections and grace periods (read_section.h).
//
// Invariants:
//   [count]   slots[s].count[p] = the number of ReadSections in slot s that
//             verified an epoch of parity p and have not ended, plus
//             transient increments of readers about to retry.
//   [verify]  A reader counts itself under epoch e's parity and then
//             re-reads the epoch; it enters only if it is still e. All of
//             these are seq_cst, so either its re-read precedes a grace
//             period's flip (and that grace period's scan sees its count),
//             or it sees the flip and retries under the new parity.
//   [serial]  Grace periods run one at a time (g_gp_mu). When one begins at
//             epoch e, only readers verified at epoch e can remain: the
//             previous grace period waited for all readers of epoch e - 1's
//             parity, and e + 1's parity is the same as e - 1's.
#include "runtime/sync/internal/read_section.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "runtime/sched/g.h"
#include "runtime/sched/lock.h"
#include "runtime/sched/sched.h"
#include "runtime/sync/mutex.h"

namespace go::sync::internal {
namespace {

constexpr int kPSlots = 64;       // goroutines: slot = P id % 64
constexpr int kThreadSlots = 16;  // plain threads and synctest bubbles

struct alignas(64) Slot {
  std::atomic<int64_t> count[2] = {};
};

std::atomic<uint64_t> g_epoch{0};
Slot g_slots[kPSlots + kThreadSlots];
Mutex g_gp_mu;  // serializes grace periods [serial]

int SlotForCaller() {
  const int pid = sched::CurrentP();
  if (pid >= 0) return pid % kPSlots;
  // A plain thread or a bubble goroutine: spread by its G record. (Not a
  // thread_local: a goroutine reading its M's TLS is a false race to TSan.)
  const auto g = reinterpret_cast<uintptr_t>(sched::CurrentG());
  return kPSlots + static_cast<int>((g >> 6) % kThreadSlots);
}

}  // namespace

ReadSection::ReadSection() : slot_(SlotForCaller()) {
  Slot& s = g_slots[slot_];
  for (;;) {
    const uint64_t e = g_epoch.load(std::memory_order_seq_cst);
    parity_ = static_cast<int>(e & 1);
    s.count[parity_].fetch_add(1, std::memory_order_seq_cst);
    if (g_epoch.load(std::memory_order_seq_cst) == e) return;  // [verify]
    s.count[parity_].fetch_sub(1, std::memory_order_seq_cst);  // raced a flip: retry
  }
}

ReadSection::~ReadSection() {
  // Release: the section's reads happen before the grace period that sees
  // the count drop.
  g_slots[slot_].count[parity_].fetch_sub(1, std::memory_order_release);
}

void SynchronizeReaders() {
  std::lock_guard<Mutex> l(g_gp_mu);
  const uint64_t e = g_epoch.load(std::memory_order_relaxed);
  g_epoch.store(e + 1, std::memory_order_seq_cst);  // new readers: the other parity
  const int old = static_cast<int>(e & 1);
  for (int spins = 0;; spins++) {
    int64_t n = 0;
    for (Slot& s : g_slots) n += s.count[old].load(std::memory_order_seq_cst);
    if (n == 0) return;
    // Readers are short unless parked (on the Map's mutex, which we do not
    // hold): spin a little, then let them run.
    if (spins < 16) {
      for (int i = 0; i < 64; i++) sched::CpuRelax();
    } else {
      sched::Yield();
    }
  }
}

}  // namespace go::sync::internal
