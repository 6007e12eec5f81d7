// Another correct answer, written independently of solutions/_template (grading/selfcheck.py
// requires full marks from it): workers pull 1024-element chunks from a shared atomic cursor
// and report their partial sums on a buffered channel; a WaitGroup joins them.
#include "labs/_template/template.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/go.h"

namespace lab::template_lab {

absl::StatusOr<int64_t> ParallelSum(const go::context::Context& ctx, const std::vector<int64_t>& xs,
                                    int workers) {
  if (workers < 1) return absl::InvalidArgumentError("workers must be at least 1");
  constexpr size_t kChunk = 1024;
  auto partials = go::MakeChan<int64_t>(static_cast<size_t>(workers));  // never blocks a worker
  std::atomic<size_t> next{0};
  go::sync::WaitGroup wg;
  for (int w = 0; w < workers; w++) {
    wg.Go([&] {
      int64_t sum = 0;
      while (ctx.Err().ok()) {
        const size_t begin = next.fetch_add(kChunk);
        if (begin >= xs.size()) break;
        const size_t end = std::min(xs.size(), begin + kChunk);
        for (size_t i = begin; i < end; i++) sum += xs[i];
      }
      partials.Send(sum);
    });
  }
  wg.Wait();
  partials.Close();
  if (!ctx.Err().ok()) return ctx.Err();
  int64_t total = 0;
  for (int64_t s : partials) total += s;
  return total;
}

}  // namespace lab::template_lab
