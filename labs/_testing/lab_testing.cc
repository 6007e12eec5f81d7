// Test helpers for the labs (lab_testing.h).
//
// Invariants:
//   Call: state_->done becomes true exactly once, after f returned, and is read with acquire,
//     so a Wait that returns true orders everything f did before the caller's next step.
//   TempTree: every path handed out is under root_; every mode changed by Chmod is listed in
//     chmodded_ and reset to 0700 before removal (remove_all cannot enter a mode-000 folder).
//   DirProbe: probe_active is true only while a DirProbe lives; the counters are reset when one
//     is created and only the replacement readdir touches them; in_progress counts calls
//     between their entry and the call to the real readdir.
#include "labs/_testing/lab_testing.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

// Defined by the TSan runtime only (hence weak); same signature as abseil's declaration.
extern "C" void AnnotateBenignRaceSized(const char* file, int line, const volatile void* mem,
                                        size_t size, const char* description)
    __attribute__((weak));

namespace lab_testing {

int WaitForGoroutinesAtMost(int n, absl::Duration limit) {
  const absl::Time deadline = go::Now() + limit;
  int count = go::NumGoroutine();
  while (count > n && go::Now() < deadline) {
    go::Sleep(absl::Milliseconds(2));
    count = go::NumGoroutine();
  }
  return count;
}

Call::Call(std::function<void()> f) : state_(std::make_shared<State>()) {
  state_->f = std::move(f);
  // The goroutine owns a reference to the state, so it stays valid even if this Call is
  // destroyed first (the destructor waits anyway; this is belt and braces).
  go::Go([s = state_] {
    s->f();
    s->done.store(true, std::memory_order_release);
  });
}

Call::~Call() {
  if (Wait(absl::Minutes(2))) return;
  // f captures the test's locals: returning now would let it use dead stack frames. There is
  // no way to stop a goroutine from outside, so end the process with a message instead.
  std::fprintf(stderr,
               "lab_testing::Call: the function under test is still running 2 minutes after "
               "the test gave up on it (it never returned); exiting.\n");
  std::fflush(stderr);
  std::_Exit(3);
}

bool Call::Wait(absl::Duration limit) {
  const absl::Time deadline = go::Now() + limit;
  while (!Done()) {
    if (go::Now() >= deadline) return false;
    go::Sleep(absl::Milliseconds(1));
  }
  return true;
}

bool Call::Done() const { return state_->done.load(std::memory_order_acquire); }

namespace {

std::string TempBase() {
  const char* dir = std::getenv("TEST_TMPDIR");
  if (dir == nullptr || *dir == '\0') dir = std::getenv("TMPDIR");
  if (dir == nullptr || *dir == '\0') dir = "/tmp";
  return dir;
}

}  // namespace

TempTree::TempTree() {
  std::string templ = TempBase() + "/labtree.XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp(" << templ << "): " << std::strerror(errno);
    root_ = templ;
    return;
  }
  root_ = buf.data();
}

TempTree::~TempTree() {
  for (const std::string& p : chmodded_) ::chmod(p.c_str(), 0700);
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

std::string TempTree::Path(std::string_view rel) const { return absl::StrCat(root_, "/", rel); }

std::string TempTree::MakeDir(std::string_view rel) {
  std::string p = Path(rel);
  if (::mkdir(p.c_str(), 0755) != 0) ADD_FAILURE() << "mkdir(" << p << "): " << std::strerror(errno);
  return p;
}

std::string TempTree::MakeFile(std::string_view rel, size_t bytes) {
  std::string p = Path(rel);
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    ADD_FAILURE() << "open(" << p << "): " << std::strerror(errno);
    return p;
  }
  // Sparse is fine: the labs count st_size, not blocks.
  if (bytes > 0 && ::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    ADD_FAILURE() << "ftruncate(" << p << "): " << std::strerror(errno);
  }
  ::close(fd);
  return p;
}

std::string TempTree::MakeSymlink(std::string_view rel, std::string_view target) {
  std::string p = Path(rel);
  std::string t(target);
  if (::symlink(t.c_str(), p.c_str()) != 0) {
    ADD_FAILURE() << "symlink(" << t << ", " << p << "): " << std::strerror(errno);
  }
  return p;
}

void TempTree::Chmod(std::string_view rel, mode_t mode) {
  std::string p = Path(rel);
  if (::chmod(p.c_str(), mode) != 0) {
    ADD_FAILURE() << "chmod(" << p << "): " << std::strerror(errno);
    return;
  }
  chmodded_.push_back(p);
}

bool CanDenyReads() {
  TempTree t;
  t.MakeDir("locked");
  t.Chmod("locked", 0);
  DIR* d = ::opendir(t.Path("locked").c_str());
  if (d == nullptr) return true;
  ::closedir(d);
  return false;
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    ADD_FAILURE() << "opendir(" << dir << "): " << std::strerror(errno);
    return names;
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// ----- The replacement directory functions (see lab_testing.h) --------------------------------

namespace {

std::atomic<bool> probe_active{false};
std::atomic<int64_t> probe_delay_ns{0};
std::atomic<int> probe_in_progress{0};
std::atomic<int> probe_max_in_progress{0};
std::atomic<int> probe_reads{0};

// Tells TSan, once per OS thread, that races on this thread's errno are benign (see the header).
// Not instrumented itself: its `done` flag is thread-local too, so it would trip the very
// report it exists to silence.
__attribute__((no_sanitize_thread)) void ErrnoIsPerThread() {
  if (AnnotateBenignRaceSized == nullptr) return;
  static thread_local bool done = false;  // per OS thread, like errno itself
  if (done) return;
  done = true;
  AnnotateBenignRaceSized(__FILE__, __LINE__, &errno, sizeof(errno),
                          "errno belongs to the OS thread, shared by the goroutines it runs");
}

// The main thread's errno, before any test runs.
const bool main_thread_errno = (ErrnoIsPerThread(), true);

template <typename F>
F* Real(const char* name) {
  return reinterpret_cast<F*>(dlsym(RTLD_NEXT, name));
}

template <typename Entry>
Entry* ProbedRead(Entry* (*real)(DIR*), DIR* d) {
  ErrnoIsPerThread();
  if (!probe_active.load()) return real(d);
  // Callers set errno = 0 to tell the end of the directory from an error: keep it intact.
  const int saved = errno;
  const int now = probe_in_progress.fetch_add(1) + 1;
  probe_reads.fetch_add(1);
  int seen = probe_max_in_progress.load();
  while (now > seen && !probe_max_in_progress.compare_exchange_weak(seen, now)) {
  }
  go::Sleep(absl::Nanoseconds(probe_delay_ns.load()));
  probe_in_progress.fetch_sub(1);
  errno = saved;
  return real(d);
}

}  // namespace

DirProbe::DirProbe(absl::Duration delay_per_read) {
  (void)main_thread_errno;
  probe_delay_ns.store(absl::ToInt64Nanoseconds(delay_per_read));
  probe_in_progress.store(0);
  probe_max_in_progress.store(0);
  probe_reads.store(0);
  probe_active.store(true);
}

DirProbe::~DirProbe() { probe_active.store(false); }

int DirProbe::MaxInProgress() const { return probe_max_in_progress.load(); }

int DirProbe::Reads() const { return probe_reads.load(); }

}  // namespace lab_testing

extern "C" {

DIR* opendir(const char* name) {
  static auto* real = lab_testing::Real<DIR*(const char*)>("opendir");
  lab_testing::ErrnoIsPerThread();
  return real(name);
}

DIR* fdopendir(int fd) {
  static auto* real = lab_testing::Real<DIR*(int)>("fdopendir");
  lab_testing::ErrnoIsPerThread();
  return real(fd);
}

int closedir(DIR* d) {
  static auto* real = lab_testing::Real<int(DIR*)>("closedir");
  lab_testing::ErrnoIsPerThread();
  return real(d);
}

struct dirent* readdir(DIR* d) {
  static auto* real = lab_testing::Real<struct dirent*(DIR*)>("readdir");
  return lab_testing::ProbedRead(real, d);
}

struct dirent64* readdir64(DIR* d) {
  static auto* real = lab_testing::Real<struct dirent64*(DIR*)>("readdir64");
  return lab_testing::ProbedRead(real, d);
}

}  // extern "C"
