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

}  // namespace radlads
