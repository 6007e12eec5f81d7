// The benchmark workloads of the runtime, each the twin of a Go program in bench/go/.
//
// Defines:
//   Measurement  one number a workload reports: name, value, unit (`cpp <name> <value> <unit>`)
//   Sizes        full sizes (the record) or quick ones (about 1/100, for the smoke test)
//   Workload     a named workload: what it measures, whether this checkout can run it, and how
//   AllWorkloads the catalogue (run_bench.py holds the order it prints and the targets)
//   RunInGoroutine  runs one workload inside a goroutine, as Go runs main in one
//
// A workload checks its own answer (the skynet sum, the mutex count, ...) and reports a failed
// check as an error instead of numbers, so a fast wrong runtime never posts a result. It times
// only the span its Go twin times, with the monotonic clock (std::chrono::steady_clock; Go's
// time.Since reads the monotonic clock too). Definitions and units: docs/PERFORMANCE.md.
#ifndef GO_BENCH_WORKLOADS_H_
#define GO_BENCH_WORKLOADS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace bench {

struct Measurement {
  std::string name;
  double value = 0;
  std::string unit;
};

struct Sizes {
  bool quick = false;
  // N returns `full`, or full/100 (at least 1) for a quick run. Same rule as bench/go.
  int64_t N(int64_t full) const {
    if (!quick) return full;
    return full / 100 < 1 ? 1 : full / 100;
  }
};

struct Workload {
  std::string name;                   // what `run_bench.py` and `bench_cpp --run` call it
  std::vector<std::string> measures;  // the measurements it reports, in order
  // Empty when this checkout can run it; else why not, naming the missing runtime package.
  std::string unavailable;
  // Runs the workload on the calling goroutine; throws CheckFailed when its answer is wrong.
  std::function<std::vector<Measurement>(const Sizes&)> run;
};

// Thrown by Check when a workload computed a wrong answer.
struct CheckFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Check throws CheckFailed(what) unless ok.
inline void Check(bool ok, const std::string& what) {
  if (!ok) throw CheckFailed("check failed: " + what);
}

// The catalogue; bench/go has the same names (run_bench.py checks that the two agree).
const std::vector<Workload>& AllWorkloads();

// Finds a workload by name; nullptr when there is none.
const Workload* FindWorkload(const std::string& name);

struct Outcome {
  std::vector<Measurement> measurements;
  std::string error;  // empty on success
};

// RunInGoroutine runs w.run(sizes) on a new goroutine, blocks the calling thread (which must
// not be a goroutine) until it returns, and hands back its measurements or its error.
Outcome RunInGoroutine(const Workload& w, const Sizes& sizes);

// --- helpers for the workload files ------------------------------------------------------------
using Clock = std::chrono::steady_clock;

inline double NsPer(Clock::duration d, int64_t n) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()) /
         static_cast<double>(n);
}
inline double Ms(Clock::duration d) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()) / 1e6;
}

// Resident set size in bytes, from /proc/self/statm (the Go twin reads the same file).
int64_t RssBytes();

// Unavailable returns "" when every package is there, else "needs runtime/x (not in this
// checkout)" naming the missing ones. Each pair: (BENCH_HAVE_* value, package folder).
std::string Unavailable(std::initializer_list<std::pair<bool, const char*>> packages);

// The workload files add their workloads here (one function per runtime package they need).
void AddChanWorkloads(std::vector<Workload>* out);
void AddSyncWorkloads(std::vector<Workload>* out);
void AddContextWorkloads(std::vector<Workload>* out);
void AddTimeWorkloads(std::vector<Workload>* out);

}  // namespace bench

#endif  // GO_BENCH_WORKLOADS_H_
