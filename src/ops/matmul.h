// Linear layer through BLAS: out[M,OC] = inp[M,C] · weight[OC,C]^T (+ bias[OC]).
#pragma once

#include <cstdint>

namespace radlads {

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int64_t M, int64_t C, int64_t OC);

// Naive triple loop in double, the test oracle.
void matmul_forward_naive(float* out, const float* inp, const float* weight, const float* bias,
                          int64_t M, int64_t C, int64_t OC);

}  // namespace radlads
