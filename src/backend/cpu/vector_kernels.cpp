// Streaming kernels, one source for every ISA (backend/cpu/isa.h). The loops are
// written so GCC vectorises them at the build's width (ymm for AVX2, zmm for
// AVX-512): no reductions that need reassociation, and -fno-math-errno (see
// CMakeLists.txt) so √ becomes vsqrtps.
#include "backend/cpu/vector_kernels.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/scratch.h"

namespace radlads::RADLADS_ISA_NS {

void adamw_update(float* w, float* m, float* v, const float* g, int64_t n, const AdamWStep& s) {
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < n; j++) {
    const float gj = g[j];
    const float mj = s.b1 * m[j] + (1.0f - s.b1) * gj;
    const float vj = s.b2 * v[j] + (1.0f - s.b2) * gj * gj;
    m[j] = mj, v[j] = vj;
    w[j] = w[j] * s.decay - s.step_size * mj / (std::sqrt(vj) / s.sqrt_bc2 + s.eps);
  }
}

// Eight interleaved partial sums in double (lane k takes indices ≡ k mod 8),
// added in a fixed order at the end: the order depends only on n.
double sum_squares_block(const float* x, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) acc[k] += double(x[j + k]) * double(x[j + k]);
  for (; j < n; j++) acc[j % 8] += double(x[j]) * double(x[j]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace radlads::RADLADS_ISA_NS

#if RADLADS_ISA_PRIMARY
namespace radlads {

void adamw_update(float* w, float* m, float* v, const float* g, int64_t n, const AdamWStep& s) {
  RADLADS_ISA_CALL(adamw_update)(w, m, v, g, n, s);
}

void sum_squares_blocks(const float* x, int64_t n, int64_t block, double* part) {
  const int64_t nb = (n + block - 1) / block;
  auto sum_block = RADLADS_ISA_CALL(sum_squares_block);
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < nb; b++) part[b] = sum_block(x + b * block, std::min(block, n - b * block));
}

double sum_squares(const float* x, int64_t n) {
  constexpr int64_t kBlock = Backend::kSumSquaresBlock;
  // Per-block partial sums added in block order: the same sum for any
  // thread count. The buffer is the caller thread's and keeps its capacity
  // (no allocation per optimiser step).
  thread_local std::vector<double> part_buf;
  const int64_t nb = (n + kBlock - 1) / kBlock;
  double* part = grown(part_buf, size_t(nb)).data();  // the workers must not name the caller's thread_local
  sum_squares_blocks(x, n, kBlock, part);
  double total = 0;
  for (int64_t b = 0; b < nb; b++) total += part[b];
  return total;
}

}  // namespace radlads
#endif
