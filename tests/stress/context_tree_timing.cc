// context_tree_timing: the context_tree benchmark shape (10 children per node,
// 4 levels, a goroutine waiting on each leaf's Done), repeated, printing the
// best and median of each phase. A tool for tuning runtime/context, not a
// test: `bazel run -c opt //tests/stress:context_tree_timing -- [reps]`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "runtime/go.h"

namespace {

namespace ctx = go::context;
using Clock = std::chrono::steady_clock;

void Build(const ctx::Context& parent, int depth, std::vector<ctx::Context>* leaves,
           std::vector<ctx::CancelFunc>* cancels) {
  if (depth == 0) {
    leaves->push_back(parent);
    return;
  }
  for (int i = 0; i < 10; i++) {
    auto [c, cancel] = ctx::WithCancel(parent);
    cancels->push_back(std::move(cancel));
    Build(c, depth - 1, leaves, cancels);
  }
}

double Ns(Clock::duration d) { return std::chrono::duration<double, std::nano>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 10;
  go::GOMAXPROCS(2);
  std::vector<double> build, done, cancel, teardown;
  for (int r = 0; r < reps; r++) {
    auto [root, cancel_root] = ctx::WithCancel(ctx::Background());
    std::vector<ctx::Context> leaves;
    std::vector<ctx::CancelFunc> cancels;
    leaves.reserve(10000);
    cancels.reserve(11110);
    auto t0 = Clock::now();
    Build(root, 4, &leaves, &cancels);
    auto t1 = Clock::now();
    build.push_back(Ns(t1 - t0) / leaves.size());

    go::sync::WaitGroup ready, woke;
    ready.Add(static_cast<int>(leaves.size()));
    woke.Add(static_cast<int>(leaves.size()));
    auto t2 = Clock::now();
    for (const ctx::Context& leaf : leaves) {
      go::Go([&ready, &woke, &leaf] {
        auto d = leaf.Done();
        ready.Done();
        d.Recv();
        woke.Done();
      });
    }
    ready.Wait();
    auto t3 = Clock::now();
    done.push_back(Ns(t3 - t2) / leaves.size());
    auto t4 = Clock::now();
    cancel_root();
    woke.Wait();
    auto t5 = Clock::now();
    cancel.push_back(Ns(t5 - t4) / 1e6);
    auto t6 = Clock::now();
    for (auto& c : cancels) c();
    cancels.clear();
    leaves.clear();
    auto t7 = Clock::now();
    teardown.push_back(Ns(t7 - t6) / 1e6);
  }
  auto report = [](const char* name, std::vector<double> v, const char* unit) {
    std::sort(v.begin(), v.end());
    std::printf("%-22s best %9.1f  median %9.1f %s\n", name, v.front(), v[v.size() / 2], unit);
  };
  report("build", build, "ns/leaf");
  report("spawn+Done waiters", done, "ns/leaf");
  report("cancel", cancel, "ms");
  report("teardown", teardown, "ms");
  return 0;
}
