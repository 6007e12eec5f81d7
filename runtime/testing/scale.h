// Small helpers every runtime test suite shares.
//
//   kScale      divides iteration counts under the sanitizers (TSan and ASan
//               make each goroutine and each synchronisation ~10-100x dearer;
//               the interleavings, not the counts, are what they check).
//   ProcsScope  sets GOMAXPROCS for a scope and restores the old value.
#ifndef GO_RUNTIME_TESTING_SCALE_H_
#define GO_RUNTIME_TESTING_SCALE_H_

#include "runtime/goroutine.h"

namespace go::testutil {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr int kScale = 10;
#else
inline constexpr int kScale = 1;
#endif

class ProcsScope {
 public:
  explicit ProcsScope(int n) : old_(GOMAXPROCS(n)) {}
  ~ProcsScope() { GOMAXPROCS(old_); }
  ProcsScope(const ProcsScope&) = delete;
  ProcsScope& operator=(const ProcsScope&) = delete;

 private:
  int old_;
};

}  // namespace go::testutil

#endif  // GO_RUNTIME_TESTING_SCALE_H_
