// StripedCounter: a counter that many threads add to and few read, such as
// "how many X are alive" for leak checks. One shared atomic would be a cache
// line that every core writes on every add (at 16 Ps, NewTimer and
// WithCancel paid for that line on every call); here each add goes to the
// slot of the CPU it runs on and a read sums the slots. Reads are not
// atomic snapshots: a sum taken while adds happen may be off by the adds in
// flight, which is what a leak check polling until the count drops needs.
//
// The slot comes from sched_getcpu() (glibc reads it from rseq: no system
// call), not from a thread_local: goroutines are fibers, and TSan reports a
// fiber reading its thread's TLS as a race with that thread's TLS set-up.
#ifndef GO_RUNTIME_INTERNAL_STRIPED_COUNTER_H_
#define GO_RUNTIME_INTERNAL_STRIPED_COUNTER_H_

#include <sched.h>

#include <atomic>
#include <cstdint>

namespace go::internal {

class StripedCounter {
 public:
  constexpr StripedCounter() = default;
  StripedCounter(const StripedCounter&) = delete;
  StripedCounter& operator=(const StripedCounter&) = delete;

  void Add(int64_t d) noexcept { slots_[Slot()].v.fetch_add(d, std::memory_order_relaxed); }
  int64_t Sum() const noexcept {
    int64_t n = 0;
    for (const Padded& s : slots_) n += s.v.load(std::memory_order_relaxed);
    return n;
  }

 private:
  static constexpr int kSlots = 32;
  static int Slot() noexcept {
    const int cpu = sched_getcpu();
    return cpu < 0 ? 0 : cpu % kSlots;
  }
  struct alignas(64) Padded {
    std::atomic<int64_t> v{0};
  };
  Padded slots_[kSlots];
};

}  // namespace go::internal

#endif  // GO_RUNTIME_INTERNAL_STRIPED_COUNTER_H_
