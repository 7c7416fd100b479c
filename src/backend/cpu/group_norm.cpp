// Per-head GroupNorm forward and backward. Statistics are two-pass in double
// (mean, then Σ(x-μ)²): a head's outputs can share a large common offset, where
// the one-pass E[x²]-μ² would cancel catastrophically in float.
#include "backend/cpu/group_norm.h"

#include <algorithm>
#include <cmath>

namespace radlads {

template <typename F>
void group_norm_forward_t(F* out, F* mean, F* rstd, const F* inp, const F* weight, const F* bias,
                          int64_t M, int H, int N, double eps) {
  const int64_t rows = M * H;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const F* x = inp + r * N;
    const int64_t c0 = (r % H) * N;  // this head's slice of weight and bias
    double mu = 0;
    for (int n = 0; n < N; n++) mu += x[n];
    mu /= N;
    double var = 0;
    for (int n = 0; n < N; n++) var += (x[n] - mu) * (x[n] - mu);
    const double rs = 1.0 / std::sqrt(var / N + eps);
    if (mean) mean[r] = F(mu);
    if (rstd) rstd[r] = F(rs);
    F* y = out + r * N;
    for (int n = 0; n < N; n++)
      y[n] = F((x[n] - mu) * rs) * weight[c0 + n] + bias[c0 + n];
  }
}

// x̂ = (x-μ)·r, y = x̂·w + b. With g = dy·w and means over the N channels of a head:
//   dx = r·(g - mean(g) - x̂·mean(g·x̂)),  dw += Σ_m dy·x̂,  db += Σ_m dy.
template <typename F>
void group_norm_backward_t(F* d_inp, F* d_weight, F* d_bias, const F* d_out, const F* inp,
                           const F* weight, const F* mean, const F* rstd, int64_t M, int H,
                           int N) {
  const int64_t C = int64_t(H) * N;
  // Parameter gradients first (so d_inp may alias d_out), by column blocks
  // over all rows in order: race-free and independent of the thread count.
  if (d_weight || d_bias) {
    constexpr int64_t kCols = 256;
    const int64_t nblk = (C + kCols - 1) / kCols;
#pragma omp parallel for schedule(static)
    for (int64_t blk = 0; blk < nblk; blk++) {
      const int64_t c0 = blk * kCols, n = std::min(kCols, C - c0);
      double aw[kCols] = {}, ab[kCols] = {};
      for (int64_t m = 0; m < M; m++)
        for (int64_t j = 0; j < n; j++) {
          const int64_t c = c0 + j, r = m * H + c / N;
          const double dy = d_out[m * C + c];
          aw[j] += dy * (double(inp[m * C + c]) - mean[r]) * rstd[r];
          ab[j] += dy;
        }
      for (int64_t j = 0; j < n; j++) {
        if (d_weight) d_weight[c0 + j] += F(aw[j]);
        if (d_bias) d_bias[c0 + j] += F(ab[j]);
      }
    }
  }
  const int64_t rows = M * H;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const F* x = inp + r * N;
    const F* dy = d_out + r * N;
    const F* w = weight + (r % H) * N;
    const double mu = mean[r], rs = rstd[r];
    double sg = 0, sgx = 0;
    for (int n = 0; n < N; n++) {
      const double g = double(dy[n]) * w[n];
      sg += g;
      sgx += g * (x[n] - mu) * rs;
    }
    sg /= N;
    sgx /= N;
    F* dx = d_inp + r * N;
    for (int n = 0; n < N; n++) {
      const double xh = (x[n] - mu) * rs;
      dx[n] = F(rs * (double(dy[n]) * w[n] - sg - xh * sgx));
    }
  }
}

template void group_norm_forward_t<float>(float*, float*, float*, const float*, const float*,
                                          const float*, int64_t, int, int, double);
template void group_norm_forward_t<double>(double*, double*, double*, const double*,
                                           const double*, const double*, int64_t, int, int, double);
template void group_norm_backward_t<float>(float*, float*, float*, const float*, const float*,
                                           const float*, const float*, const float*, int64_t, int,
                                           int);
template void group_norm_backward_t<double>(double*, double*, double*, const double*,
                                            const double*, const double*, const double*,
                                            const double*, int64_t, int, int);

void group_norm_forward(float* out, float* mean, float* rstd, const float* inp,
                        const float* weight, const float* bias, int64_t M, int H, int N,
                        float eps) {
  group_norm_forward_t<float>(out, mean, rstd, inp, weight, bias, M, H, N, eps);
}

void group_norm_backward(float* d_inp, float* d_weight, float* d_bias, const float* d_out,
                         const float* inp, const float* weight, const float* mean,
                         const float* rstd, int64_t M, int H, int N) {
  group_norm_backward_t<float>(d_inp, d_weight, d_bias, d_out, inp, weight, mean, rstd, M, H, N);
}

}  // namespace radlads
