// Package context workloads: context_tree_build, context_tree_cancel. Twin: bench/go/workloads.go.
//
// A tree of WithCancel contexts under one root: 10 children per node, 4 levels below the root
// (10 + 100 + 1,000 + 10,000 contexts, 10,000 leaves). context_tree_build: creating the
// contexts, per leaf. context_tree_cancel: one goroutine per leaf waits on its Done(); the time
// from cancelling the root until every waiter has woken.
#include <cstdint>
#include <vector>

#include "bench/features.h"
#include "bench/workloads.h"

#if BENCH_HAVE_CONTEXT && BENCH_HAVE_SYNC
#include "absl/status/status.h"
#include "runtime/go.h"
#endif

namespace bench {
namespace {

#if BENCH_HAVE_CONTEXT && BENCH_HAVE_SYNC

namespace ctx = go::context;

void BuildTree(const ctx::Context& parent, int depth, std::vector<ctx::Context>* leaves,
               std::vector<ctx::CancelFunc>* cancels) {
  if (depth == 0) {
    leaves->push_back(parent);
    return;
  }
  for (int i = 0; i < 10; i++) {
    auto [c, cancel] = ctx::WithCancel(parent);
    cancels->push_back(std::move(cancel));
    BuildTree(c, depth - 1, leaves, cancels);
  }
}

std::vector<Measurement> ContextTree(const Sizes& s) {
  const int depth = s.quick ? 2 : 4;
  auto [root, cancel_root] = ctx::WithCancel(ctx::Background());
  std::vector<ctx::Context> leaves;
  std::vector<ctx::CancelFunc> cancels;
  auto start = Clock::now();
  BuildTree(root, depth, &leaves, &cancels);
  const auto build = Clock::now() - start;

  go::sync::WaitGroup ready, woke;
  ready.Add(static_cast<int>(leaves.size()));
  woke.Add(static_cast<int>(leaves.size()));
  for (const ctx::Context& leaf : leaves) {
    go::Go([&ready, &woke, &leaf] {
      auto done = leaf.Done();
      ready.Done();
      done.Recv();
      woke.Done();
    });
  }
  ready.Wait();
  start = Clock::now();
  cancel_root();
  woke.Wait();
  const auto cancel = Clock::now() - start;
  for (const ctx::Context& leaf : leaves) {
    Check(absl::IsCancelled(leaf.Err()), "leaf not canceled: " + leaf.Err().ToString());
  }
  for (auto& c : cancels) c();
  const auto n = static_cast<int64_t>(leaves.size());
  return {{"context_tree_build", NsPer(build, n), "ns/leaf"},
          {"context_tree_cancel", Ms(cancel), "ms"}};
}

#endif  // BENCH_HAVE_CONTEXT && BENCH_HAVE_SYNC

}  // namespace

void AddContextWorkloads(std::vector<Workload>* out) {
  Workload w{"context_tree",
             {"context_tree_build", "context_tree_cancel"},
             Unavailable({{BENCH_HAVE_CONTEXT, "runtime/context"}, {BENCH_HAVE_SYNC, "runtime/sync"}}),
             nullptr};
#if BENCH_HAVE_CONTEXT && BENCH_HAVE_SYNC
  w.run = ContextTree;
#endif
  out->push_back(std::move(w));
}

}  // namespace bench
