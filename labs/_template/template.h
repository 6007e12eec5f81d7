// Lab _template: the lab new labs are copied from (docs/authoring-labs.md). Its API is a tiny
// but real exercise, so the template is graded by the self-checks like any lab.
//
//   ParallelSum  sums a vector with a fixed number of goroutines, honouring a context
//
// Copying: rename this file to <lab>.h, the namespace to lab::<lab>, and replace the API.
// A lab header opens with what the lab is about and lists what it declares; each function's
// comment is its contract (the hidden tests check exactly that, and nothing else).
#ifndef LABS_TEMPLATE_TEMPLATE_H_
#define LABS_TEMPLATE_TEMPLATE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/go.h"

namespace lab::template_lab {

// ParallelSum returns the sum of xs, computed by `workers` goroutines that each add up one
// contiguous share of xs (workers < 1 is INVALID_ARGUMENT; more workers than elements is
// fine). When ctx is done before the sum is complete it returns ctx.Err(). No goroutine it
// started outlives the call.
absl::StatusOr<int64_t> ParallelSum(const go::context::Context& ctx, const std::vector<int64_t>& xs,
                                    int workers);

}  // namespace lab::template_lab

#endif  // LABS_TEMPLATE_TEMPLATE_H_
