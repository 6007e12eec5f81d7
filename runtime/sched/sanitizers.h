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

extern "C" {
#ifdef GO_TSAN
void* __tsan_get_current_fiber(void);
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
void __tsan_set_fiber_name(void* fiber, const char* name);
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
#endif
#ifdef GO_ASAN
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, size_t size);
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                     size_t* size_old);
void __asan_unpoison_memory_region(void const volatile* addr, size_t size);
#endif
}

namespace go::sched::san {

inline void* CurrentFiber() {
#ifdef GO_TSAN
  return __tsan_get_current_fiber();
#else
  return nullptr;
#endif
}
inline void* CreateFiber() {
#ifdef GO_TSAN
  return __tsan_create_fiber(0);
#else
  return nullptr;
#endif
}
inline void DestroyFiber(void* f) {
#ifdef GO_TSAN
  if (f) __tsan_destroy_fiber(f);
#else
  (void)f;
#endif
}
inline void SwitchToFiber(void* f) {
#ifdef GO_TSAN
  __tsan_switch_to_fiber(f, 1 /* __tsan_switch_to_fiber_no_sync */);
#else
  (void)f;
#endif
}
inline void Acquire(void* addr) {
#ifdef GO_TSAN
  __tsan_acquire(addr);
#else
  (void)addr;
#endif
}
inline void Release(void* addr) {
#ifdef GO_TSAN
  __tsan_release(addr);
#else
  (void)addr;
#endif
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
