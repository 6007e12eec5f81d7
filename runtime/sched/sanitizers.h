// Fiber annotations for ThreadSanitizer and AddressSanitizer.
//
// TSan: every goroutine is a TSan fiber. Switches use the "no sync" flag so
// that TSan does not invent a happens-before edge through the scheduler (that
// would hide real races between goroutines that share an M); the edges Go's
// memory model promises come from the primitives themselves plus two explicit
// ones: `go` statement -> goroutine start, and Ready(g) -> g resumes.
// ASan: each switch is bracketed by start/finish_switch_fiber so ASan knows
// which stack is live.
#ifndef GO_RUNTIME_SCHED_SANITIZERS_H_
#define GO_RUNTIME_SCHED_SANITIZERS_H_

#include <cstddef>

#if defined(__SANITIZE_THREAD__)
#define GO_TSAN 1
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GO_ASAN 1
#endif
#if defined(__has_feature)
#if __has_feature(thread_sanitizer) && !defined(GO_TSAN)
#define GO_TSAN 1
#endif
#if __has_feature(address_sanitizer) && !defined(GO_ASAN)
#define GO_ASAN 1
#endif
#endif

// The scheduler's own .cc files are compiled WITHOUT -fsanitize=thread (see
// BUILD.bazel): like Go's runtime under the race detector, its internal
// bookkeeping (run queues, P-owned free lists, G records) is invisible to
// TSan, and only the happens-before edges the Go memory model promises are
// announced explicitly. The TSan entry points are therefore declared weak and
// looked up at run time: they exist exactly when the program links libtsan.
extern "C" {
void* __tsan_get_current_fiber(void) __attribute__((weak));
void* __tsan_create_fiber(unsigned flags) __attribute__((weak));
void __tsan_destroy_fiber(void* fiber) __attribute__((weak));
void __tsan_switch_to_fiber(void* fiber, unsigned flags) __attribute__((weak));
void __tsan_acquire(void* addr) __attribute__((weak));
void __tsan_release(void* addr) __attribute__((weak));
void AnnotateIgnoreReadsBegin(const char* f, int l) __attribute__((weak));
void AnnotateIgnoreReadsEnd(const char* f, int l) __attribute__((weak));
void AnnotateIgnoreWritesBegin(const char* f, int l) __attribute__((weak));
void AnnotateIgnoreWritesEnd(const char* f, int l) __attribute__((weak));
#ifdef GO_ASAN
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, size_t size);
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                     size_t* size_old);
void __asan_unpoison_memory_region(void const volatile* addr, size_t size);
#endif
}

namespace go::sched::san {

inline bool TsanActive() { return __tsan_switch_to_fiber != nullptr; }

// While alive, TSan ignores the current thread's memory accesses (and its
// mmap interceptor resets shadow cheaply instead of imitating writes).
class IgnoreAccesses {
 public:
  IgnoreAccesses() {
    if (TsanActive() && AnnotateIgnoreReadsBegin) {
      AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
      AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
    }
  }
  ~IgnoreAccesses() {
    if (TsanActive() && AnnotateIgnoreReadsEnd) {
      AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
      AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
    }
  }
  IgnoreAccesses(const IgnoreAccesses&) = delete;
  IgnoreAccesses& operator=(const IgnoreAccesses&) = delete;
};

inline void* CurrentFiber() { return TsanActive() ? __tsan_get_current_fiber() : nullptr; }
inline void* CreateFiber() { return TsanActive() ? __tsan_create_fiber(0) : nullptr; }
inline void DestroyFiber(void* f) {
  if (f && TsanActive()) __tsan_destroy_fiber(f);
}
inline void SwitchToFiber(void* f) {
  if (TsanActive()) __tsan_switch_to_fiber(f, 1 /* __tsan_switch_to_fiber_no_sync */);
}
inline void Acquire(void* addr) {
  if (TsanActive()) __tsan_acquire(addr);
}
inline void Release(void* addr) {
  if (TsanActive()) __tsan_release(addr);
}
inline void StartSwitch(void** fake_save, const void* bottom, size_t size) {
#ifdef GO_ASAN
  __sanitizer_start_switch_fiber(fake_save, bottom, size);
#else
  (void)fake_save, (void)bottom, (void)size;
#endif
}
inline void FinishSwitch(void* fake_save) {
#ifdef GO_ASAN
  __sanitizer_finish_switch_fiber(fake_save, nullptr, nullptr);
#else
  (void)fake_save;
#endif
}
inline void Unpoison(const void* addr, size_t size) {
#ifdef GO_ASAN
  __asan_unpoison_memory_region(addr, size);
#else
  (void)addr, (void)size;
#endif
}

}  // namespace go::sched::san

#endif  // GO_RUNTIME_SCHED_SANITIZERS_H_
