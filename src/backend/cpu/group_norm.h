// Per-head GroupNorm (one group per head of N channels, C = H*N) with an
// affine weight and bias over C, as torch.nn.GroupNorm(H, C) applied to (M, C):
// RWKV7's ln_x on the time-mix output. Forward and backward.
#pragma once

#include <cstdint>

namespace radlads {

// out (M, H, N); mean, rstd (M, H) caches for backward, each nullable;
// inp (M, H, N); weight, bias (H*N). Biased variance as torch; the models pass
// eps = N * 1e-5 (DESIGN.md). out may alias inp.
void group_norm_forward(float* out, float* mean, float* rstd, const float* inp,
                        const float* weight, const float* bias, int64_t M, int H, int N, float eps);

// d_inp (M, H, N) written; d_weight, d_bias (H*N) accumulated, each nullable
// (frozen); mean, rstd from the forward of the same inp. d_inp may alias d_out.
void group_norm_backward(float* d_inp, float* d_weight, float* d_bias, const float* d_out,
                         const float* inp, const float* weight, const float* mean,
                         const float* rstd, int64_t M, int H, int N);

// Scalar-generic bodies (float and double instantiated; double for FD tests).
template <typename F>
void group_norm_forward_t(F* out, F* mean, F* rstd, const F* inp, const F* weight, const F* bias,
                          int64_t M, int H, int N, double eps);
template <typename F>
void group_norm_backward_t(F* d_inp, F* d_weight, F* d_bias, const F* d_out, const F* inp,
                           const F* weight, const F* mean, const F* rstd, int64_t M, int H, int N);

}  // namespace radlads
