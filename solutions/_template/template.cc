// Lab _template: the reference answer (labs/_template/template.h).
//
// Invariants:
//   [own-slot] worker i writes only partial[i]; the main goroutine reads partial only after
//     Wait, which orders every worker's writes before it (errgroup's memory ordering).
//   [join] every worker is started by the errgroup and ParallelSum returns only after Wait.
#include "labs/_template/template.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "runtime/go.h"

namespace lab::template_lab {

absl::StatusOr<int64_t> ParallelSum(const go::context::Context& ctx, const std::vector<int64_t>& xs,
                                    int workers) {
  if (workers < 1) return absl::InvalidArgumentError(absl::StrCat("workers must be >= 1, got ", workers));
  if (!ctx.Err().ok()) return ctx.Err();
  auto [group, gctx] = go::errgroup::WithContext(ctx);
  std::vector<int64_t> partial(workers, 0);  // [own-slot]
  const size_t n = xs.size(), share = (n + workers - 1) / workers;
  for (int w = 0; w < workers; w++) {
    group->Go([&, w, gctx = gctx]() -> absl::Status {
      const size_t begin = std::min(n, w * share), end = std::min(n, begin + share);
      for (size_t i = begin; i < end; i++) {
        if (i % 4096 == 0 && !gctx.Err().ok()) return gctx.Err();
        partial[w] += xs[i];
      }
      return absl::OkStatus();
    });
  }
  absl::Status st = group->Wait();  // [join]
  if (!ctx.Err().ok()) return ctx.Err();
  if (!st.ok()) return st;
  int64_t sum = 0;
  for (int64_t p : partial) sum += p;
  return sum;
}

}  // namespace lab::template_lab
