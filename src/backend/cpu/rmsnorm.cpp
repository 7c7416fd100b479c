// RMSNorm forward and backward. Row sums (of squares, of d_out·w·x) and the
// weight gradient's column sums over M rows are accumulated in double, as ggml
// does, so long rows and many rows do not lose precision.
#include "backend/cpu/rmsnorm.h"

#include <algorithm>
#include <cmath>

namespace radlads {

template <typename F>
void rmsnorm_forward_t(F* out, F* rstd, const F* inp, const F* weight, int64_t M, int64_t C,
                       double eps) {
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; m++) {
    const F* x = inp + m * C;
    double ss = 0;
    for (int64_t c = 0; c < C; c++) ss += double(x[c]) * x[c];
    const F r = F(1.0 / std::sqrt(ss / double(C) + eps));
    if (rstd) rstd[m] = r;
    F* o = out + m * C;
    for (int64_t c = 0; c < C; c++) o[c] = x[c] * r * weight[c];
  }
}

// y = x·r·w with r = (mean(x²)+eps)^-1/2 and dr/dx_c = -r³·x_c/C, so
// dx_c = r·g_c - x_c·r³·(Σ_j g_j x_j)/C with g = dy⊙w;  dw_c += Σ_m dy_c·x_c·r.
template <typename F>
void rmsnorm_backward_t(F* d_inp, F* d_weight, const F* d_out, const F* inp, const F* weight,
                        const F* rstd, int64_t M, int64_t C) {
  // The weight gradient first, so that d_inp may alias d_out (in place).
  if (d_weight) {
    // Column blocks, each over all rows in order: race-free and independent of
    // the thread count.
    constexpr int64_t kCols = 256;
    const int64_t nblk = (C + kCols - 1) / kCols;
#pragma omp parallel for schedule(static)
    for (int64_t blk = 0; blk < nblk; blk++) {
      const int64_t c0 = blk * kCols, n = std::min(kCols, C - c0);
      double acc[kCols] = {};
      for (int64_t m = 0; m < M; m++) {
        const F* x = inp + m * C + c0;
        const F* dy = d_out + m * C + c0;
        const double r = rstd[m];
        for (int64_t j = 0; j < n; j++) acc[j] += double(dy[j]) * x[j] * r;
      }
      for (int64_t j = 0; j < n; j++) d_weight[c0 + j] += F(acc[j]);
    }
  }
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; m++) {
    const F* x = inp + m * C;
    const F* dy = d_out + m * C;
    const double r = rstd[m];
    double dot = 0;
    for (int64_t c = 0; c < C; c++) dot += double(dy[c]) * weight[c] * x[c];
    const F a = F(r), b = F(r * r * r * dot / double(C));
    F* dx = d_inp + m * C;
    for (int64_t c = 0; c < C; c++) dx[c] = a * dy[c] * weight[c] - b * x[c];
  }
}

template void rmsnorm_forward_t<float>(float*, float*, const float*, const float*, int64_t,
                                       int64_t, double);
template void rmsnorm_forward_t<double>(double*, double*, const double*, const double*, int64_t,
                                        int64_t, double);
template void rmsnorm_backward_t<float>(float*, float*, const float*, const float*, const float*,
                                        const float*, int64_t, int64_t);
template void rmsnorm_backward_t<double>(double*, double*, const double*, const double*,
                                         const double*, const double*, int64_t, int64_t);

void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int64_t M,
                     int64_t C, float eps) {
  rmsnorm_forward_t<float>(out, rstd, inp, weight, M, C, eps);
}

void rmsnorm_backward(float* d_inp, float* d_weight, const float* d_out, const float* inp,
                      const float* weight, const float* rstd, int64_t M, int64_t C) {
  rmsnorm_backward_t<float>(d_inp, d_weight, d_out, inp, weight, rstd, M, C);
}

}  // namespace radlads
