// L2 normalisation per head. Norms are accumulated in double. Below eps the
// denominator is the constant eps (torch's clamp_min), so the map is x/eps
// there and its gradient d_out/eps: finite at x = 0, never NaN.
#include "backend/cpu/l2norm.h"

#include <algorithm>
#include <cmath>

namespace radlads {

template <typename F>
void l2norm_forward_t(F* out, const F* inp, int64_t M, int H, int N, double eps) {
  const int64_t rows = M * H;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const F* x = inp + r * N;
    double ss = 0;
    for (int n = 0; n < N; n++) ss += double(x[n]) * x[n];
    const double inv = 1.0 / std::max(std::sqrt(ss), eps);
    F* y = out + r * N;
    for (int n = 0; n < N; n++) y[n] = F(x[n] * inv);
  }
}

// For ‖x‖ > eps, with y = x/‖x‖:  dx = (dy - y·(y·dy)) / ‖x‖  (the tangential
// part of dy: scaling x does not change y). For ‖x‖ ≤ eps: dx = dy / eps.
template <typename F>
void l2norm_backward_t(F* d_inp, const F* d_out, const F* inp, int64_t M, int H, int N,
                       double eps) {
  const int64_t rows = M * H;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const F* x = inp + r * N;
    const F* dy = d_out + r * N;
    double ss = 0, xdy = 0;
    for (int n = 0; n < N; n++) {
      ss += double(x[n]) * x[n];
      xdy += double(x[n]) * dy[n];
    }
    const double norm = std::sqrt(ss);
    F* dx = d_inp + r * N;
    if (norm > eps) {
      const double inv = 1.0 / norm, proj = xdy * inv * inv;  // y·dy / ‖x‖ = x·dy / ‖x‖²
      for (int n = 0; n < N; n++) dx[n] = F((dy[n] - x[n] * proj) * inv);
    } else {
      for (int n = 0; n < N; n++) dx[n] = F(dy[n] / eps);
    }
  }
}

template void l2norm_forward_t<float>(float*, const float*, int64_t, int, int, double);
template void l2norm_forward_t<double>(double*, const double*, int64_t, int, int, double);
template void l2norm_backward_t<float>(float*, const float*, const float*, int64_t, int, int,
                                       double);
template void l2norm_backward_t<double>(double*, const double*, const double*, int64_t, int, int,
                                        double);

void l2norm_forward(float* out, const float* inp, int64_t M, int H, int N, float eps) {
  l2norm_forward_t<float>(out, inp, M, H, N, eps);
}

void l2norm_backward(float* d_inp, const float* d_out, const float* inp, int64_t M, int H, int N,
                     float eps) {
  l2norm_backward_t<float>(d_inp, d_out, inp, M, H, N, eps);
}

}  // namespace radlads
