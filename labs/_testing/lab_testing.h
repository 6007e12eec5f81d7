// Test helpers for the labs' public and hidden tests.
//
//   lab_testing::Call            runs a function on its own goroutine; wait for it with a bound
//   lab_testing::TempTree        a temporary directory tree (files, dirs, symlinks, modes)
//   lab_testing::Scaled          stretches a bound under sanitizers (TSan/ASan are 2-20x slower)
//   lab_testing::WaitForGoroutinesAtMost   polls go::NumGoroutine() with a bound
//   lab_testing::RecvWithin / DrainWithin  receive from a channel, giving up after a bound
//   lab_testing::InBubble        runs a test body in a synctest bubble (virtual time, seeded
//                                schedule: GO_SYNCTEST_SEED picks the interleaving)
//   lab_testing::DirProbe        counts directory reads in progress (see below)
//
// Every wait here is bounded, so a wrong submission makes a test fail with a message instead
// of hanging until the grader's time limit ("a timeout scores zero and says nothing").
// Bounds are generous (seconds where a correct answer needs milliseconds): tests must never
// flake on a loaded 2-core machine, so they check that something happens, never how fast.
//
// The leak check itself is the runtime's gtest main (//runtime/testing:gtest_main), which every
// lab test links: a test whose goroutines are still running a second after it returned fails
// with a dump of them.
#ifndef LABS_TESTING_LAB_TESTING_H_
#define LABS_TESTING_LAB_TESTING_H_

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "runtime/go.h"

namespace lab_testing {

// How much slower the current build is than a plain one, roughly (1 in plain builds).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr int kSlowdown = 4;
#else
inline constexpr int kSlowdown = 1;
#endif

// Scaled returns d stretched for the current build (d * kSlowdown).
inline absl::Duration Scaled(absl::Duration d) { return d * kSlowdown; }

// WaitForGoroutinesAtMost polls go::NumGoroutine() until it is <= n or `limit` has passed, and
// returns the last count seen.
int WaitForGoroutinesAtMost(int n, absl::Duration limit);

// InBubble runs f in a synctest bubble (go::synctest::Test): time is virtual, so timeouts and
// deadlines fire in a fixed order whatever the machine's load, and the interleaving is a
// function of $GO_SYNCTEST_SEED. It returns when every goroutine of the bubble has exited; if
// they all block for good it throws go::Panic("deadlock: ...") with a goroutine dump.
inline void InBubble(absl::FunctionRef<void()> f) { go::synctest::Test(f); }

// What RecvWithin saw.
enum class Recv { kValue, kClosed, kTimeout };

// RecvWithin receives one value from ch, waiting at most `limit`. On kValue, *value holds it.
// Leaves no goroutine behind (it selects against a context's deadline).
template <typename T>
Recv RecvWithin(const go::RecvChan<T>& ch, absl::Duration limit, std::optional<T>* value) {
  auto [ctx, cancel] = go::context::WithTimeout(go::context::Background(), limit);
  Recv what = Recv::kTimeout;
  go::Select(go::OnRecv(ch,
                        [&](std::optional<T> v) {
                          what = v.has_value() ? Recv::kValue : Recv::kClosed;
                          if (value != nullptr) *value = std::move(v);
                        }),
             go::OnRecv(ctx.Done()));
  cancel();
  return what;
}

// DrainWithin receives until ch is closed, appending every value to *values; false if ch was
// still open after `limit` in total.
template <typename T>
bool DrainWithin(const go::RecvChan<T>& ch, absl::Duration limit, std::vector<T>* values) {
  const absl::Time deadline = go::Now() + limit;
  for (;;) {
    std::optional<T> v;
    switch (RecvWithin(ch, deadline - go::Now(), &v)) {
      case Recv::kValue:
        values->push_back(std::move(*v));
        break;
      case Recv::kClosed:
        return true;
      case Recv::kTimeout:
        return false;
    }
  }
}

// Call runs f on a new goroutine at construction. Wait(limit) reports whether f has returned
// within limit. The destructor waits for f (a test must unblock what it started before it
// ends): f usually captures the test's locals by reference.
//
// Memory ordering: everything f did happens before a Wait that returns true returns.
class Call {
 public:
  explicit Call(std::function<void()> f);
  ~Call();
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // Wait returns true once f has returned, false if it has not after `limit`.
  bool Wait(absl::Duration limit);

  // Done reports whether f has returned (without waiting).
  bool Done() const;

 private:
  struct State {
    std::function<void()> f;
    std::atomic<bool> done{false};
  };
  std::shared_ptr<State> state_;
};

// TempTree is a fresh directory under $TEST_TMPDIR (else /tmp), removed with everything in it
// (modes restored first) when the TempTree is destroyed. Paths given to its methods are
// relative to the root; parents must exist. Each method fails the test (ADD_FAILURE) if the
// file system refuses.
class TempTree {
 public:
  TempTree();
  ~TempTree();
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  // Root returns the absolute path of the tree's top directory.
  const std::string& Root() const { return root_; }
  // Path returns Root() + "/" + rel.
  std::string Path(std::string_view rel) const;
  // MakeDir creates directory rel and returns its path.
  std::string MakeDir(std::string_view rel);
  // MakeFile creates regular file rel holding `bytes` bytes and returns its path.
  std::string MakeFile(std::string_view rel, size_t bytes = 0);
  // MakeSymlink creates symlink rel pointing at target (taken verbatim) and returns its path.
  std::string MakeSymlink(std::string_view rel, std::string_view target);
  // Chmod sets rel's mode (e.g. 0 to make a directory unreadable); undone before removal.
  void Chmod(std::string_view rel, mode_t mode);

 private:
  std::string root_;
  std::vector<std::string> chmodded_;
};

// CanDenyReads reports whether a directory with mode 000 is unreadable for this process. It is
// false for root (CAP_DAC_OVERRIDE), where tests of PERMISSION_DENIED must skip. The grader
// runs tests as an unprivileged user, so they run there.
bool CanDenyReads();

// Names returns the sorted list of names in dir, read with opendir/readdir (for expectations).
std::vector<std::string> Names(const std::string& dir);

// Test binaries that link lab_testing get their own opendir, fdopendir, readdir, readdir64
// and closedir, which forward to the C library's (dlsym RTLD_NEXT). Calls from the code under
// test go through them, whether direct or through std::filesystem. They do two things:
//
//  * ThreadSanitizer and errno. errno lives in the OS thread, and every goroutine that runs on
//    that thread shares it; TSan treats goroutines as separate threads that never synchronize
//    when they take turns on one OS thread, so `errno = 0; readdir(d)` in two goroutines looks
//    like a data race on errno although they never run at once. The first of these calls on
//    each thread (and this library's start-up, on the main thread) tells TSan that races on
//    that thread's errno are benign. Outside TSan builds this does nothing.
//  * DirProbe: while one is alive, each readdir call counts as "a directory read in progress"
//    and first sleeps `delay_per_read` (go::Sleep: a goroutine parks, so reads overlap as much
//    as the code under test lets them; inside a bubble the sleep is virtual). Tests use it to
//    see how many directories are read at once and to make a walk slow enough to cancel.
//    One DirProbe at a time.
class DirProbe {
 public:
  explicit DirProbe(absl::Duration delay_per_read);
  ~DirProbe();
  DirProbe(const DirProbe&) = delete;
  DirProbe& operator=(const DirProbe&) = delete;

  // MaxInProgress returns the most readdir calls that were in progress at the same time.
  int MaxInProgress() const;
  // Reads returns how many readdir calls there were.
  int Reads() const;
};

}  // namespace lab_testing

#endif  // LABS_TESTING_LAB_TESTING_H_
