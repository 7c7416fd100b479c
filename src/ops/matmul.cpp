// matmul: sgemm with the weight transposed in place (HF [out,in] layout).
#include "ops/matmul.h"

#include <cblas.h>

#include <algorithm>

namespace radlads {

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int64_t M, int64_t C, int64_t OC) {
  if (bias)
    for (int64_t m = 0; m < M; m++) std::copy_n(bias, OC, out + m * OC);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(M), int(OC), int(C), 1.0f, inp, int(C),
              weight, int(C), bias ? 1.0f : 0.0f, out, int(OC));
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
