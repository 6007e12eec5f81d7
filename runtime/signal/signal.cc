// os/signal: one relay thread fed by a self-pipe.
//
// Invariants:
//   [S1] The signal handler touches nothing but g_pipe_w (an atomic int, set
//        before any handler is installed) and errno, which it restores.
//   [S2] refs_[sig] == number of watchers whose set contains sig; the
//        handler is installed for sig exactly while refs_[sig] > 0, and
//        old_[sig] then holds the disposition to restore.
//   [S3] Deliveries and registry changes both run under mu_, so once Stop(ch)
//        has removed ch, no delivery can reach it. A delivery never blocks
//        while holding mu_: it is a non-blocking send from a plain thread
//        (never inside a synctest bubble, so never a preemption point).
#include "runtime/signal/signal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bitset>
#include <cstdlib>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/chan/select.h"
#include "runtime/goroutine.h"
#include "runtime/panic.h"
#include "runtime/sync/internal/lock.h"
#include "runtime/sched/sched.h"

namespace go::signal {
namespace {

constexpr int kMaxSig = _NSIG;  // signals are 1 .. kMaxSig - 1

std::atomic<int> g_pipe_w{-1};  // [S1]

extern "C" void RelayHandler(int sig) {
  const int saved = errno;
  const unsigned char b = static_cast<unsigned char>(sig);
  // Non-blocking: if the relay thread is that far behind, drop the signal.
  ssize_t r = write(g_pipe_w.load(std::memory_order_relaxed), &b, 1);
  (void)r;
  errno = saved;
}

bool Catchable(int sig) {
  switch (sig) {
    case SIGKILL:
    case SIGSTOP:
      return false;
    default:
      return sig > 0 && sig < kMaxSig;
  }
}

// What an empty Notify list means: every asynchronous catchable signal.
std::vector<int> AllSignals() {
  std::vector<int> all;
  for (int s = 1; s < kMaxSig; s++) {
    if (s == SIGSEGV || s == SIGBUS || s == SIGFPE || s == SIGILL || s == SIGTRAP ||
        s == SIGABRT || s == SIGPROF || s == SIGSYS || !Catchable(s)) {
      continue;
    }
    if (s > 31 && s < SIGRTMIN) continue;  // reserved by the C library's threads
    all.push_back(s);
  }
  return all;
}

struct Watcher {
  Chan<int> ch;
  std::bitset<kMaxSig> sigs;
};

class Relay {
 public:
  void Notify(Chan<int> ch, const std::vector<int>& signals) {
    const std::vector<int> list = signals.empty() ? AllSignals() : signals;
    sync::internal::LockGuard l(mu_);
    StartLocked();
    auto it = std::find_if(watchers_.begin(), watchers_.end(),
                           [&](const Watcher& w) { return w.ch == ch; });
    if (it == watchers_.end()) {
      watchers_.push_back(Watcher{std::move(ch), {}});
      it = watchers_.end() - 1;
    }
    for (int sig : list) {
      if (!Catchable(sig) || it->sigs.test(static_cast<size_t>(sig))) continue;
      it->sigs.set(static_cast<size_t>(sig));
      if (refs_[sig]++ == 0) Install(sig);  // [S2]
    }
  }

  void Stop(const Chan<int>& ch) {
    sync::internal::LockGuard l(mu_);
    auto it = std::find_if(watchers_.begin(), watchers_.end(),
                           [&](const Watcher& w) { return w.ch == ch; });
    if (it == watchers_.end()) return;
    for (int sig = 1; sig < kMaxSig; sig++) {
      if (it->sigs.test(static_cast<size_t>(sig)) && --refs_[sig] == 0) {
        sigaction(sig, &old_[sig], nullptr);  // [S2]
      }
    }
    watchers_.erase(it);  // [S3]
  }

 private:
  void StartLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (started_) return;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) sched::Fatal("os/signal: pipe2 failed", false);
    // Only the write end is non-blocking (the handler must never block); the
    // relay thread sleeps in read.
    fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    read_fd_ = fds[0];
    g_pipe_w.store(fds[1], std::memory_order_relaxed);  // before any Install [S1]
    started_ = true;
    // A plain thread, on purpose: it blocks in read(2), which a goroutine
    // would do while holding an M. It lives as long as the process.
    std::thread([this] { Loop(); }).detach();
  }

  void Install(int sig) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    struct sigaction sa {};
    sa.sa_handler = &RelayHandler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigaction(sig, &sa, &old_[sig]);
  }

  void Loop() {
    unsigned char buf[256];
    for (;;) {
      ssize_t n = read(read_fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) sched::Fatal("os/signal: reading the signal pipe failed", false);
      for (ssize_t i = 0; i < n; i++) Deliver(buf[i]);
    }
  }

  void Deliver(int sig) {
    sync::internal::LockGuard l(mu_);  // [S3]
    for (const Watcher& w : watchers_) {
      if (w.sigs.test(static_cast<size_t>(sig))) {
        Select(OnSend(w.ch, sig), OnDefault());  // drop if full, like Go
      }
    }
  }

  sync::internal::Lock mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  int read_fd_ = -1;  // written before the thread starts, then read-only
  std::vector<Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  int refs_[kMaxSig] ABSL_GUARDED_BY(mu_) = {};
  struct sigaction old_[kMaxSig] ABSL_GUARDED_BY(mu_) = {};
};

Relay& TheRelay() {
  static Relay* r = new Relay;  // never destroyed: its thread outlives main
  return *r;
}

}  // namespace

void Notify(Chan<int> ch, const std::vector<int>& signals) {
  if (!ch) throw Panic("os/signal: Notify using nil channel");
  TheRelay().Notify(std::move(ch), signals);
}

void Stop(const Chan<int>& ch) { TheRelay().Stop(ch); }

std::string SignalName(int sig) {
  if (const char* abbrev = sigabbrev_np(sig)) return absl::StrCat("SIG", abbrev);
  return absl::StrCat("signal ", sig);
}

std::pair<context::Context, context::CancelFunc> NotifyContext(const context::Context& parent,
                                                               const std::vector<int>& signals) {
  auto [ctx, cancel] = context::WithCancelCause(parent);
  Chan<int> ch = MakeChan<int>(1);
  Notify(ch, signals);
  if (ctx.Err().ok()) {
    go::Go([ch, done = ctx.Done(), cancel = cancel] {
      Select(OnRecv(ch,
                    [&](std::optional<int> sig) {
                      if (sig) {
                        cancel(absl::CancelledError(
                            absl::StrCat("signal received: ", SignalName(*sig))));
                      }
                    }),
             OnRecv(done));
    });
  }
  context::CancelFunc stop = [cancel = std::move(cancel), ch] {
    cancel(absl::OkStatus());
    Stop(ch);
  };
  return {std::move(ctx), std::move(stop)};
}

}  // namespace go::signal
