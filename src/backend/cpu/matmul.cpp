// matmul: sgemm with the weight transposed in place (HF [out,in] layout).
// Backward: d_inp = d_out · W (written), d_W += d_out^T · inp, d_b += column
// sums of d_out (accumulated in double: M can be 16k rows of small values).
#include "backend/cpu/matmul.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "backend/cpu/blas.h"

namespace radlads {

template <typename F>
void matmul_forward_t(F* out, const F* inp, const F* weight, const F* bias, int64_t M, int64_t C,
                      int64_t OC) {
  if (M == 0 || OC == 0) return;
  if (bias)
    for (int64_t m = 0; m < M; m++) std::copy_n(bias, OC, out + m * OC);
  gemm<F>(false, true, int(M), int(OC), int(C), F(1), inp, int(C), weight, int(C),
          bias ? F(1) : F(0), out, int(OC));
}

template <typename F>
void matmul_backward_t(F* d_inp, F* d_weight, F* d_bias, const F* d_out, const F* inp,
                       const F* weight, int64_t M, int64_t C, int64_t OC) {
  if (M == 0) return;
  if (d_inp) {
    if (OC == 0)
      std::fill_n(d_inp, M * C, F(0));
    else
      gemm<F>(false, false, int(M), int(C), int(OC), F(1), d_out, int(OC), weight, int(C), F(0),
              d_inp, int(C));
  }
  if (d_weight && OC > 0)
    gemm<F>(true, false, int(OC), int(C), int(M), F(1), d_out, int(OC), inp, int(C), F(1),
            d_weight, int(C));
  if (d_bias) {
    // Blocks of columns, each summed over all rows by one thread: no races and
    // the row order (hence the result) does not depend on the thread count.
    constexpr int64_t kCols = 256;
    const int64_t nblk = (OC + kCols - 1) / kCols;
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < nblk; b++) {
      const int64_t o0 = b * kCols, n = std::min(kCols, OC - o0);
      double acc[kCols] = {};
      for (int64_t m = 0; m < M; m++) {
        const F* g = d_out + m * OC + o0;
        for (int64_t j = 0; j < n; j++) acc[j] += double(g[j]);
      }
      for (int64_t j = 0; j < n; j++) d_bias[o0 + j] += F(acc[j]);
    }
  }
}

template void matmul_forward_t<float>(float*, const float*, const float*, const float*, int64_t,
                                      int64_t, int64_t);
template void matmul_forward_t<double>(double*, const double*, const double*, const double*,
                                       int64_t, int64_t, int64_t);
template void matmul_backward_t<float>(float*, float*, float*, const float*, const float*,
                                       const float*, int64_t, int64_t, int64_t);
template void matmul_backward_t<double>(double*, double*, double*, const double*, const double*,
                                        const double*, int64_t, int64_t, int64_t);

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int64_t M, int64_t C, int64_t OC) {
  matmul_forward_t<float>(out, inp, weight, bias, M, C, OC);
}

void matmul_backward(float* d_inp, float* d_weight, float* d_bias, const float* d_out,
                     const float* inp, const float* weight, int64_t M, int64_t C, int64_t OC) {
  matmul_backward_t<float>(d_inp, d_weight, d_bias, d_out, inp, weight, M, C, OC);
}

void matmul_forward_naive(float* out, const float* inp, const float* weight, const float* bias,
                          int64_t M, int64_t C, int64_t OC) {
  for (int64_t m = 0; m < M; m++)
    for (int64_t o = 0; o < OC; o++) {
      double s = bias ? bias[o] : 0.0;
      for (int64_t c = 0; c < C; c++) s += double(inp[m * C + c]) * weight[o * C + c];
      out[m * OC + o] = float(s);
    }
}

}  // namespace radlads
