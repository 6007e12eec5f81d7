#include "runtime/sched/lock.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace go::sched {

void FutexWait(std::atomic<uint32_t>* addr, uint32_t expected, int64_t timeout_ns) {
  struct timespec ts;
  struct timespec* tsp = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = timeout_ns / 1000000000;
    ts.tv_nsec = timeout_ns % 1000000000;
    tsp = &ts;
  }
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAIT_PRIVATE, expected, tsp,
          nullptr, 0);
}

void FutexWake(std::atomic<uint32_t>* addr, int count) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAKE_PRIVATE, count, nullptr,
          nullptr, 0);
}

void Lock::LockSlow() {
  // Spin briefly: runtime critical sections are a few dozen instructions.
  for (int i = 0; i < 100; ++i) {
    uint32_t s = state_.load(std::memory_order_relaxed);
    if (s == 0) {
      uint32_t expected = 0;
      if (state_.compare_exchange_weak(expected, 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return;
      }
    }
    CpuRelax();
  }
  // Sleep: mark the lock contended (2) so the unlocker knows to wake us.
  while (state_.exchange(2, std::memory_order_acquire) != 0) {
    FutexWait(&state_, 2);
  }
}

bool Note::Sleep(int64_t timeout_ns) {
  if (timeout_ns < 0) {
    while (key_.exchange(0, std::memory_order_acquire) == 0) FutexWait(&key_, 0);
    return true;
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t deadline = now.tv_sec * 1000000000LL + now.tv_nsec + timeout_ns;
  for (;;) {
    if (key_.exchange(0, std::memory_order_acquire) != 0) return true;
    clock_gettime(CLOCK_MONOTONIC, &now);
    const int64_t left = deadline - (now.tv_sec * 1000000000LL + now.tv_nsec);
    if (left <= 0) return key_.exchange(0, std::memory_order_acquire) != 0;
    FutexWait(&key_, 0, left);
  }
}

void Note::Wakeup() {
  key_.store(1, std::memory_order_release);
  FutexWake(&key_, 1);
}

}  // namespace go::sched
