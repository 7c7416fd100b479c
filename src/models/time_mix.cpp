// Shared time-mix helpers.
#include "models/time_mix.h"

#include <omp.h>

#include <vector>

namespace radlads {

void add_colsum(float* out, const float* d, int64_t M, int64_t n) {
  if (!out) return;
  // Parallel over columns so each thread owns its outputs (no atomics).
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < n; j++) {
    double s = 0;
    for (int64_t m = 0; m < M; m++) s += d[m * n + j];
    out[j] += float(s);
  }
}

Arena make_grad_arena(const Model& m, const std::function<bool(const std::string&)>& trainable) {
  std::vector<TensorSpec> table;
  for (auto& [name, t] : m.weights)
    if (trainable(name)) table.push_back({name, t.shape, DType::F32});
  return Arena(std::move(table));
}

}  // namespace radlads
