// Linear layer through BLAS: out[M,OC] = inp[M,C] · weight[OC,C]^T (+ bias[OC]),
// and its backward.
#pragma once

#include <cstdint>

namespace radlads {

// out (M,OC); inp (M,C); weight (OC,C) in HF [out,in] layout; bias (OC) or nullptr.
void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int64_t M, int64_t C, int64_t OC);

// d_inp (M,C) written, or nullptr to skip (a frozen first layer needs no input
// gradient); d_weight (OC,C) and d_bias (OC) accumulated (+=), each nullptr to
// skip (frozen weights); d_out (M,OC).
void matmul_backward(float* d_inp, float* d_weight, float* d_bias, const float* d_out,
                     const float* inp, const float* weight, int64_t M, int64_t C, int64_t OC);

// The same bodies for any scalar F (float and double are instantiated); the
// double ones are the finite-difference test path.
template <typename F>
void matmul_forward_t(F* out, const F* inp, const F* weight, const F* bias, int64_t M, int64_t C,
                      int64_t OC);
template <typename F>
void matmul_backward_t(F* d_inp, F* d_weight, F* d_bias, const F* d_out, const F* inp,
                       const F* weight, int64_t M, int64_t C, int64_t OC);

// Naive triple loop in double, the test oracle.
void matmul_forward_naive(float* out, const float* inp, const float* weight, const float* bias,
                          int64_t M, int64_t C, int64_t OC);

}  // namespace radlads
