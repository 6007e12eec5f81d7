// The workload catalogue and the harness that runs one workload inside a goroutine.
//
// Invariant [W1]: RunInGoroutine's goroutine and the calling thread share only the heap-held
// State below; the thread reads `outcome` after observing `done` (seq_cst store/load), so the
// goroutine's writes happen before the reads, and neither side's stack outlives its use.
#include "bench/workloads.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <exception>
#include <memory>

#include "runtime/go.h"

namespace bench {

const std::vector<Workload>& AllWorkloads() {
  static const std::vector<Workload>* all = [] {
    auto* v = new std::vector<Workload>;
    AddChanWorkloads(v);
    AddSyncWorkloads(v);
    AddContextWorkloads(v);
    AddTimeWorkloads(v);
    return v;
  }();
  return *all;
}

const Workload* FindWorkload(const std::string& name) {
  for (const Workload& w : AllWorkloads()) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

std::string Unavailable(std::initializer_list<std::pair<bool, const char*>> packages) {
  std::string missing;
  for (const auto& [have, package] : packages) {
    if (have) continue;
    if (!missing.empty()) missing += ", ";
    missing += package;
  }
  return missing.empty() ? "" : "needs " + missing + " (not in this checkout)";
}

Outcome RunInGoroutine(const Workload& w, const Sizes& sizes) {
  struct State {
    std::atomic<bool> done{false};
    Outcome outcome;
  };
  // Shared ownership: the goroutine may still be inside notify_all when the thread wakes and
  // returns ([W1]).
  auto state = std::make_shared<State>();
  go::Go([state, &w, sizes] {
    try {
      state->outcome.measurements = w.run(sizes);
    } catch (const std::exception& e) {
      state->outcome.error = e.what();
    }
    state->done.store(true);
    state->done.notify_all();
  });
  state->done.wait(false);
  return state->outcome;
}

int64_t RssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  Check(f != nullptr, "open /proc/self/statm");
  long size = 0, resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  Check(n == 2, "parse /proc/self/statm");
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

}  // namespace bench
