// Per-head L2 normalisation y = x / max(‖x‖₂, eps) over (M, H, N), as
// torch.nn.functional.normalize(x, p=2, dim=-1, eps=1e-12): RWKV7's κ = k/‖k‖.
// Forward and backward.
#pragma once

#include <cstdint>

namespace radlads {

// out (M, H, N); inp (M, H, N). out may alias inp only in the forward-only
// path: the backward rereads inp.
void l2norm_forward(float* out, const float* inp, int64_t M, int H, int N, float eps = 1e-12f);

// d_inp (M, H, N) written; d_out (M, H, N); inp the forward's input (the norm
// is recomputed, one pass over N, rather than cached). d_inp may alias d_out.
void l2norm_backward(float* d_inp, const float* d_out, const float* inp, int64_t M, int H, int N,
                     float eps = 1e-12f);

// Scalar-generic bodies (float and double instantiated; double for FD tests).
template <typename F>
void l2norm_forward_t(F* out, const F* inp, int64_t M, int H, int N, double eps);
template <typename F>
void l2norm_backward_t(F* d_inp, const F* d_out, const F* inp, int64_t M, int H, int N,
                       double eps);

}  // namespace radlads
