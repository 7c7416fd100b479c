// SwiGLU gating of the MLP: out = silu(gate) * up, elementwise, and its backward.
#pragma once

#include <cstdint>

namespace radlads {

// out, gate, up: n elements; out may alias gate or up (in place).
void swiglu_forward(float* out, const float* gate, const float* up, int64_t n);

// d_gate, d_up written (n each); d_out (n). Elementwise, so either d_gate or
// d_up (not both) may alias d_out.
void swiglu_backward(float* d_gate, float* d_up, const float* d_out, const float* gate,
                     const float* up, int64_t n);

// Scalar-generic bodies (float and double instantiated; double for FD tests).
template <typename F>
void swiglu_forward_t(F* out, const F* gate, const F* up, int64_t n);
template <typename F>
void swiglu_backward_t(F* d_gate, F* d_up, const F* d_out, const F* gate, const F* up, int64_t n);

}  // namespace radlads
