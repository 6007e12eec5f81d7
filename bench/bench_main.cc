// bench_cpp: runs one of the runtime's benchmark workloads (workloads.h) and prints its
// measurements, one line each: `cpp <name> <value> <unit>`.
//
//   bench_cpp --list                        every workload: `<name> <m1,m2,...> ok|unavailable <why>`
//   bench_cpp --run NAME [--procs N] [--quick]
//
// bench/run_bench.py (`./course bench`) builds this with `bazel build -c opt` and runs it once
// per workload and repetition, beside the Go twin (bench/go). Exit status: 0 with results,
// 1 when the workload's check failed (`error <name> <why>` on stdout), 2 on bad arguments,
// 3 when the workload cannot run in this checkout (`unavailable <name> <why>`).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/workloads.h"
#include "runtime/go.h"

namespace {

// Same format as bench/go's formatValue: about 4 significant digits, no exponent.
std::string FormatValue(double v) {
  const int decimals = v >= 1000 ? 0 : v >= 100 ? 1 : v >= 10 ? 2 : 3;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

int Usage() {
  std::fprintf(stderr, "usage: bench_cpp --list | --run NAME [--procs N] [--quick]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool list = false;
  bench::Sizes sizes;
  std::string run;
  int procs = 0;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--list") {
      list = true;
    } else if (a == "--quick") {
      sizes.quick = true;
    } else if (a == "--run" && i + 1 < argc) {
      run = argv[++i];
    } else if (a == "--procs" && i + 1 < argc) {
      procs = std::atoi(argv[++i]);
    } else {
      return Usage();
    }
  }
  if (list) {
    for (const bench::Workload& w : bench::AllWorkloads()) {
      std::string measures;
      for (const std::string& m : w.measures) measures += (measures.empty() ? "" : ",") + m;
      std::printf("%s %s %s\n", w.name.c_str(), measures.c_str(),
                  w.unavailable.empty() ? "ok" : ("unavailable " + w.unavailable).c_str());
    }
    return 0;
  }
  if (run.empty()) return Usage();
  const bench::Workload* w = bench::FindWorkload(run);
  if (w == nullptr) {
    std::fprintf(stderr, "bench_cpp: unknown workload '%s' (try --list)\n", run.c_str());
    return 2;
  }
  if (!w->unavailable.empty()) {
    std::printf("unavailable %s %s\n", w->name.c_str(), w->unavailable.c_str());
    return 3;
  }
  if (procs > 0) go::GOMAXPROCS(procs);
  const bench::Outcome out = bench::RunInGoroutine(*w, sizes);
  if (!out.error.empty()) {
    std::printf("error %s %s\n", w->name.c_str(), out.error.c_str());
    return 1;
  }
  for (const bench::Measurement& m : out.measurements) {
    std::printf("cpp %s %s %s\n", m.name.c_str(), FormatValue(m.value).c_str(), m.unit.c_str());
  }
  std::fflush(stdout);
  // Skip static destructors: goroutines of the workload may still be finishing their exit
  // path on other threads, and nothing here needs tearing down.
  std::_Exit(0);
}
