// RMSNorm: out = x / sqrt(mean(x^2) + eps) * weight, per row of C, and its backward.
#pragma once

#include <cstdint>

namespace radlads {

// out (M,C), rstd (M) or nullptr (cache for backward), inp (M,C), weight (C).
void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int64_t M,
                     int64_t C, float eps);

// d_inp (M,C) written; d_weight (C) accumulated, nullptr for a frozen norm;
// d_out (M,C); rstd (M) the cache rmsnorm_forward wrote for the same inp.
// d_inp may alias d_out (in place).
void rmsnorm_backward(float* d_inp, float* d_weight, const float* d_out, const float* inp,
                      const float* weight, const float* rstd, int64_t M, int64_t C);

// Scalar-generic bodies (float and double instantiated; double for FD tests).
template <typename F>
void rmsnorm_forward_t(F* out, F* rstd, const F* inp, const F* weight, int64_t M, int64_t C,
                       double eps);
template <typename F>
void rmsnorm_backward_t(F* d_inp, F* d_weight, const F* d_out, const F* inp, const F* weight,
                        const F* rstd, int64_t M, int64_t C);

}  // namespace radlads
