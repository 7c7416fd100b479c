// Elementwise activations the students need (tanh in the LoRAs, sigmoid in
// gates and the RWKV7 decay, silu), forward and backward. The backward of tanh
// and sigmoid reads the forward OUTPUT (one multiply, no exp); silu's reads
// the INPUT (silu is not invertible). Every function is elementwise, so out
// may alias inp and d_inp may alias d_out (in place).
#pragma once

#include <cmath>
#include <cstdint>

namespace radlads {

// out, inp: n elements.                       d/dx tanh = 1 - y²
void tanh_forward(float* out, const float* inp, int64_t n);
void tanh_backward(float* d_inp, const float* d_out, const float* out, int64_t n);

// σ(x) = 1/(1+e^-x).                           d/dx σ = y(1 - y)
void sigmoid_forward(float* out, const float* inp, int64_t n);
void sigmoid_backward(float* d_inp, const float* d_out, const float* out, int64_t n);

// silu(x) = x·σ(x).                            d/dx silu = σ(x)(1 + x(1 - σ(x)))
void silu_forward(float* out, const float* inp, int64_t n);
void silu_backward(float* d_inp, const float* d_out, const float* inp, int64_t n);

// Scalar-generic bodies (float and double instantiated; double for FD tests).
template <typename F> void tanh_forward_t(F* out, const F* inp, int64_t n);
template <typename F> void tanh_backward_t(F* d_inp, const F* d_out, const F* out, int64_t n);
template <typename F> void sigmoid_forward_t(F* out, const F* inp, int64_t n);
template <typename F> void sigmoid_backward_t(F* d_inp, const F* d_out, const F* out, int64_t n);
template <typename F> void silu_forward_t(F* out, const F* inp, int64_t n);
template <typename F> void silu_backward_t(F* d_inp, const F* d_out, const F* inp, int64_t n);

// σ in scalar form for ops that fuse it. For x → -inf, e^-x overflows to inf
// and σ to exactly 0 (never NaN); for x → +inf, σ → 1.
template <typename F>
inline F sigmoid(F x) {
  return F(1) / (F(1) + std::exp(-x));
}

}  // namespace radlads
