// Fatal errors, panics that escape goroutines, goroutine dumps and the
// signal handlers behind them (stack overflow on an alternate signal stack,
// SIGQUIT dumps).
#include <cxxabi.h>
#include <unwind.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "absl/debugging/symbolize.h"
#include "absl/strings/str_format.h"
#include "runtime/sched/sched_internal.h"

namespace go::sched {

const char* WaitReasonString(WaitReason r) {
  switch (r) {
    case WaitReason::kNone: return "running";
    case WaitReason::kChanReceive: return "chan receive";
    case WaitReason::kChanSend: return "chan send";
    case WaitReason::kChanReceiveNilChan: return "chan receive (nil chan)";
    case WaitReason::kChanSendNilChan: return "chan send (nil chan)";
    case WaitReason::kSelect: return "select";
    case WaitReason::kSelectNoCases: return "select (no cases)";
    case WaitReason::kSleep: return "sleep";
    case WaitReason::kMutexLock: return "sync.Mutex.Lock";
    case WaitReason::kRWMutexRLock: return "sync.RWMutex.RLock";
    case WaitReason::kRWMutexLock: return "sync.RWMutex.Lock";
    case WaitReason::kWaitGroupWait: return "sync.WaitGroup.Wait";
    case WaitReason::kCondWait: return "sync.Cond.Wait";
    case WaitReason::kSemacquire: return "semacquire";
    case WaitReason::kOnceDo: return "sync.Once.Do";
    case WaitReason::kIOWait: return "IO wait";
    case WaitReason::kTimerGoroutine: return "timer goroutine (idle)";
    case WaitReason::kSynctestWait: return "synctest.Wait";
    case WaitReason::kSynctestRun: return "synctest.Run";
    case WaitReason::kSyscall: return "syscall";
    case WaitReason::kPreempted: return "preempted";
    case WaitReason::kContextDone: return "context done";
    case WaitReason::kErrgroupWait: return "errgroup.Wait";
  }
  return "unknown";
}

bool WaitReasonIsDurable(WaitReason r) {
  switch (r) {
    case WaitReason::kIOWait:
    case WaitReason::kSyscall:
    case WaitReason::kNone:
    case WaitReason::kPreempted:
      return false;
    default:
      return true;
  }
}

namespace {

std::string Symbol(void* pc) {
  char buf[512];
  // pc - 1: a return address points after the call instruction.
  if (!absl::Symbolize(static_cast<char*>(pc) - 1, buf, sizeof(buf))) {
    return absl::StrFormat("%p", pc);
  }
  if (buf[0] == '_' && buf[1] == 'Z') {
    // abseil's demangler gives up on some names (ABI tags such as [abi:cxx11]); the C++
    // runtime's does not.
    int status = 0;
    if (char* d = abi::__cxa_demangle(buf, nullptr, nullptr, &status)) {
      std::string name = d;
      free(d);
      return name;
    }
  }
  return buf;
}

// The running goroutine's frames from the throw site down, for the panic report. The
// terminate handler runs on the throwing goroutine's stack before any unwinding (no handler
// exists: see GoroutineMain), but the C++ runtime's frames between it and the throw have no
// frame pointers, so this walk uses the unwinder's tables (DWARF CFI) instead of rbp. It
// skips the report's own frames: everything up to __cxa_throw (or __cxa_rethrow), or up to
// the terminate handler when nothing was thrown.
struct UnwindFrames {
  void* pc[64];
  int n = 0;
};

_Unwind_Reason_Code CollectFrame(struct _Unwind_Context* ctx, void* arg) {
  auto* f = static_cast<UnwindFrames*>(arg);
  const uintptr_t pc = _Unwind_GetIP(ctx);
  if (pc == 0 || f->n == 64) return _URC_END_OF_STACK;
  f->pc[f->n++] = reinterpret_cast<void*>(pc);
  return _URC_NO_REASON;
}

std::string PanickingFrames() {
  UnwindFrames f;
  _Unwind_Backtrace(&CollectFrame, &f);
  std::vector<std::string> names;
  for (int i = 0; i < f.n; i++) names.push_back(Symbol(f.pc[i]));
  size_t start = 0;
  for (size_t i = 0; i < names.size(); i++) {
    if (names[i].find("TerminateHandler") != std::string::npos && start == 0) start = i + 1;
    if (names[i].find("__cxa_throw") != std::string::npos ||
        names[i].find("__cxa_rethrow") != std::string::npos) {
      start = i + 1;
    }
  }
  std::string out;
  for (size_t i = start; i < names.size(); i++) {
    absl::StrAppendFormat(&out, "\t%s\n", names[i]);
    if (names[i].find("GoroutineMain") != std::string::npos) break;  // the fiber's bottom
  }
  return out;
}

// Walks the frame-pointer chain of a parked fiber. Reads another fiber's
// stack without synchronisation on purpose (a diagnostic snapshot), so the
// sanitizers are told to look away; every pointer is bounds-checked against
// the stack, so a stale chain ends the walk instead of faulting.
__attribute__((no_sanitize("address", "thread")))
void AppendFrames(std::string* out, const G* g, uintptr_t fp, int max_frames) {
  const auto lo = reinterpret_cast<uintptr_t>(g->stack.lo);
  const auto hi = reinterpret_cast<uintptr_t>(g->stack.hi);
  for (int i = 0; i < max_frames; i++) {
    if (fp < lo || fp + 16 > hi || (fp & 7) != 0) return;
    auto* frame = reinterpret_cast<uintptr_t*>(fp);
    uintptr_t next = frame[0], ret = frame[1];
    if (ret == 0) return;
    absl::StrAppendFormat(out, "\t%s\n", Symbol(reinterpret_cast<void*>(ret)));
    if (next <= fp) return;
    fp = next;
  }
}

__attribute__((no_sanitize("address", "thread")))
uintptr_t ParkedFramePointer(const G* g) {
  // go_ctx_switch saved [mxcsr/fpcw, r15, r14, r13, r12, rbx, rbp, ret].
  auto* sp = static_cast<const uintptr_t*>(g->sp);
  if (!sp || !g->stack) return 0;
  auto a = reinterpret_cast<uintptr_t>(sp);
  if (a < reinterpret_cast<uintptr_t>(g->stack.lo) ||
      a + 64 > reinterpret_cast<uintptr_t>(g->stack.hi)) {
    return 0;
  }
  return sp[6];
}

// frames: if set, the running goroutine's frames (instead of a frame-pointer walk from here).
void AppendG(std::string* out, G* g, bool running_here, const std::string* frames = nullptr) {
  const int64_t id = g->id.load(std::memory_order_relaxed);
  GStatus st = g->status.load(std::memory_order_relaxed);
  std::string state;
  if (running_here) {
    state = "running";
  } else if (st == GStatus::kWaiting) {
    state = WaitReasonString(g->wait_reason.load(std::memory_order_relaxed));
    int64_t mins = (MonoNow() - g->wait_since.load(std::memory_order_relaxed)) / 60000000000LL;
    if (mins > 0) absl::StrAppendFormat(&state, ", %d minutes", mins);
  } else if (st == GStatus::kRunnable) {
    state = "runnable";
  } else if (st == GStatus::kSyscall) {
    state = "syscall";
  } else {
    state = "running";
  }
  if (g->is_thread) {
    absl::StrAppendFormat(out, "thread %d [%s]:\n", -id, state);
  } else {
    absl::StrAppendFormat(out, "goroutine %d [%s]:\n", id, state);
  }
  if (st == GStatus::kWaiting || st == GStatus::kSyscall) {
    if (const char* f = g->blocked_file.load(std::memory_order_relaxed)) {
      absl::StrAppendFormat(out, "\tblocked at %s:%d (%s)\n", f,
                            g->blocked_line.load(std::memory_order_relaxed),
                            g->blocked_func.load(std::memory_order_relaxed));
    }
    if (st == GStatus::kWaiting && !g->is_thread) {
      AppendFrames(out, g, ParkedFramePointer(g), 32);
    }
  } else if (running_here && !g->is_thread) {
    if (frames != nullptr) {
      *out += *frames;
    } else {
      AppendFrames(out, g, reinterpret_cast<uintptr_t>(__builtin_frame_address(0)), 48);
    }
  }
  if (!g->is_thread) {
    if (const char* f = g->created_file.load(std::memory_order_relaxed)) {
      absl::StrAppendFormat(out, "created by goroutine %d at %s:%d (%s)\n",
                            g->created_by.load(std::memory_order_relaxed), f,
                            g->created_line.load(std::memory_order_relaxed),
                            g->created_func.load(std::memory_order_relaxed));
    }
  }
}

void WriteAll(int fd, const std::string& s) {
  const char* p = s.data();
  size_t left = s.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// --- signal-safe formatting for the overflow handler ------------------------
void SafeWrite(const char* s) {
  ssize_t r = write(2, s, strlen(s));
  (void)r;
}
void SafeWriteInt(int64_t v) {
  char buf[24];
  int i = sizeof(buf);
  buf[--i] = 0;
  bool neg = v < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-v) : static_cast<uint64_t>(v);
  do {
    buf[--i] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u && i > 1);
  if (neg) buf[--i] = '-';
  SafeWrite(buf + i);
}

struct sigaction g_old_segv, g_old_bus;
std::atomic<bool> g_sigquit{false};

void OverflowMessage(G* g) {
  SafeWrite("fatal error: goroutine ");
  SafeWriteInt(g->id.load(std::memory_order_relaxed));
  SafeWrite(" stack overflow\n\ngoroutine ");
  SafeWriteInt(g->id.load(std::memory_order_relaxed));
  SafeWrite(" [running]:\ncreated by goroutine ");
  SafeWriteInt(g->created_by.load(std::memory_order_relaxed));
  SafeWrite(" at ");
  const char* f = g->created_file.load(std::memory_order_relaxed);
  SafeWrite(f ? f : "?");
  SafeWrite(":");
  SafeWriteInt(g->created_line.load(std::memory_order_relaxed));
  SafeWrite(" (");
  const char* fn = g->created_func.load(std::memory_order_relaxed);
  SafeWrite(fn ? fn : "?");
  SafeWrite(")\n");
}

void SegvHandler(int sig, siginfo_t* info, void* uctx) {
  G* g = CurrentGoroutine();
  if (g && InGuardPage(g->stack, info->si_addr)) {
    OverflowMessage(g);
    _exit(2);
  }
  // Not ours: reinstall the previous handler and return, so the faulting
  // instruction runs again and faults into it (ASan's report, or a core).
  sigaction(sig, sig == SIGSEGV ? &g_old_segv : &g_old_bus, nullptr);
  (void)uctx;
}

void QuitHandler(int) { g_sigquit.store(true); }

// DumpGoroutines, with the highlighted goroutine's frames given (not walked from here).
std::string DumpGoroutinesWith(const G* highlight, const std::string* highlight_frames) {
  std::string out;
  G* self = CurrentGoroutine();
  if (highlight) {
    AppendG(&out, const_cast<G*>(highlight), highlight == self, highlight_frames);
    out += "\n";
  }
  ForEachG([&](G* g) {
    if (g == highlight) return;
    AppendG(&out, g, g == self);
    out += "\n";
  });
  return out;
}

void TerminateHandler();
std::terminate_handler g_old_terminate = nullptr;

void TerminateHandler() {
  G* g = CurrentGoroutine();
  if (!g) {
    if (g_old_terminate) g_old_terminate();
    abort();
  }
  std::string msg = "panic: ";
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      msg += ex.what();
    } catch (...) {
      msg += "unknown C++ exception";
    }
  } else {
    msg += "std::terminate called";
  }
  msg += "\n\n";
  const std::string frames = PanickingFrames();
  msg += DumpGoroutinesWith(g, &frames);
  WriteAll(2, msg);
  _exit(2);
}

}  // namespace

std::string DumpGoroutines(const G* highlight) { return DumpGoroutinesWith(highlight, nullptr); }

void Fatal(const std::string& msg, bool dump) {
  std::string out = "fatal error: " + msg + "\n";
  if (dump) out += "\n" + DumpGoroutines(CurrentGoroutine());
  WriteAll(2, out);
  _exit(2);
}

void StackOverflow(G* g) {
  OverflowMessage(g);
  _exit(2);
}

bool ConsumeSigquit() { return g_sigquit.exchange(false); }

void InitSignalStackForThread() {
  static thread_local bool done = false;
  if (done) return;
  done = true;
  const size_t size = 64 * 1024;
  void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  stack_t ss{};
  ss.ss_sp = mem;
  ss.ss_size = size;
  sigaltstack(&ss, nullptr);
}

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_sigaction = &SegvHandler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &g_old_segv);
  sigaction(SIGBUS, &sa, &g_old_bus);
  if (!getenv("GO_NO_SIGQUIT_DUMP")) {
    struct sigaction old {};
    sigaction(SIGQUIT, nullptr, &old);
    if (old.sa_handler == SIG_DFL) {
      struct sigaction q {};
      q.sa_handler = &QuitHandler;
      sigemptyset(&q.sa_mask);
      q.sa_flags = SA_RESTART;
      sigaction(SIGQUIT, &q, nullptr);
    }
  }
  g_old_terminate = std::set_terminate(&TerminateHandler);
}

}  // namespace go::sched
