// The goroutine record (Go's `g`) and the vocabulary of waiting.
//
// A G describes one goroutine: its fiber stack and saved context, its entry
// function, its scheduling state and, while it waits, why and where. Gs are
// recycled through per-P free lists; their stacks are attached when a G first
// runs and returned to the pool when it exits (stack.h).
//
// Plain OS threads that block on runtime primitives (a test's main thread, a
// std::thread) get a G too, with is_thread set: they park on a futex instead
// of switching fibers, but every primitive sees one kind of waiter, and the
// goroutine dump and deadlock detector see them.
#ifndef GO_RUNTIME_SCHED_G_H_
#define GO_RUNTIME_SCHED_G_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <source_location>

#include "runtime/sched/stack.h"

namespace go::sched {

struct M;
struct P;
class Bubble;

enum class GStatus : uint32_t {
  kIdle,      // allocated, not yet started
  kRunnable,  // on a run queue
  kRunning,   // executing on an M
  kWaiting,   // parked on a runtime primitive
  kSyscall,   // inside a SyscallGuard: holds its M, not its P
  kDead,      // exited; on a free list
};

// Why a goroutine is parked; shown in goroutine dumps (Go's waitReason).
enum class WaitReason : uint8_t {
  kNone,
  kChanReceive,
  kChanSend,
  kChanReceiveNilChan,
  kChanSendNilChan,
  kSelect,
  kSelectNoCases,
  kSleep,
  kMutexLock,
  kRWMutexRLock,
  kRWMutexLock,
  kWaitGroupWait,
  kCondWait,
  kSemacquire,
  kOnceDo,
  kIOWait,
  kTimerGoroutine,
  kSynctestWait,
  kSynctestRun,
  kSyscall,
  kPreempted,
  kContextDone,
  kErrgroupWait,
};
const char* WaitReasonString(WaitReason r);

// Durable blocking (synctest): a bubble may advance its clock only when every
// goroutine waits on something another bubble goroutine or a timer must
// resolve. I/O and system calls are not durable.
bool WaitReasonIsDurable(WaitReason r);

struct SchedContext;

struct G {
  // --- fiber -------------------------------------------------------------
  void* sp = nullptr;          // saved stack pointer while not running
  Stack stack;                 // empty until first run
  SchedContext* home = nullptr;  // the scheduler context that resumed us
  void* tsan_fiber = nullptr;
  void* asan_fake_stack = nullptr;

  // --- identity and entry ---------------------------------------------
  std::atomic<int64_t> id{0};
  std::atomic<GStatus> status{GStatus::kIdle};
  bool is_thread = false;
  void (*invoke)(G*) = nullptr;   // runs the stored callable
  void (*destroy)(G*) = nullptr;  // destroys it (also after invoke)
  void* fn_heap = nullptr;        // callable when it does not fit inline
  static constexpr size_t kInlineFn = 48;
  alignas(16) unsigned char fn_inline[kInlineFn];
  // Where `Go` was called (read by goroutine dumps from other threads, hence
  // relaxed atomics rather than a std::source_location copy).
  std::atomic<const char*> created_file{nullptr};
  std::atomic<const char*> created_func{nullptr};
  std::atomic<uint32_t> created_line{0};
  std::atomic<int64_t> created_by{0};

  // --- waiting ----------------------------------------------------------
  std::atomic<WaitReason> wait_reason{WaitReason::kNone};
  std::atomic<int64_t> wait_since{0};  // runtime nanotime when parked
  std::atomic<const char*> blocked_file{nullptr};
  std::atomic<const char*> blocked_func{nullptr};
  std::atomic<uint32_t> blocked_line{0};
  // Set by the goroutine, read by its scheduler after the switch; atomics so
  // that no happens-before edge is needed between the two fibers.
  std::atomic<bool (*)(G*, void*)> park_commit{nullptr};
  std::atomic<void*> park_arg{nullptr};
  std::atomic<int> switch_reason{0};
  // TSan only: set while an M runs g's park commit under g's TSan fiber;
  // another M must not switch to that fiber until it is clear (proc.cc).
  std::atomic<uint32_t> tsan_in_commit{0};
  void* param = nullptr;   // handed over by the waker (Go's g.param)
  std::atomic<uint32_t> thread_permit{0};  // is_thread: futex word for parking
  char tsan_sync = 0;      // address used for the Ready -> resume edge

  // --- scheduling --------------------------------------------------------
  G* schedlink = nullptr;   // run queue / free list link
  M* m = nullptr;           // current M while running
  Bubble* bubble = nullptr; // synctest bubble, or null
  uint64_t bubble_seq = 0;  // bubble bookkeeping: spawn order inside the bubble
  uint64_t bubble_prio = 0; // bubble bookkeeping: PCT priority
  bool bubble_nondurable = false;  // parked on something outside the bubble's control
  int64_t syscall_since = 0;
  G* all_next = nullptr;    // registry of every G ever allocated
};

// Current goroutine, or the calling thread's G (allocated on first use).
// Never null. Implemented out of line on purpose: a goroutine may resume on a
// different OS thread, so thread-local addresses must never be cached across
// a park (see sched.cc).
G* CurrentG();
// The current goroutine, or null when the caller is not a goroutine.
G* CurrentGoroutine();
// True when the caller runs on a goroutine (not a plain thread, not g0).
inline bool InGoroutine() { return CurrentGoroutine() != nullptr; }

}  // namespace go::sched

#endif  // GO_RUNTIME_SCHED_G_H_
