// SwiGLU forward and backward. silu(g) = g·σ(g) with σ(g) = 1/(1+e^-g); for
// very negative g, e^-g overflows to inf and σ to exactly 0, never NaN.
#include "backend/cpu/swiglu.h"

#include <cmath>

namespace radlads {

template <typename F>
void swiglu_forward_t(F* out, const F* gate, const F* up, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    F g = gate[i];
    out[i] = g / (F(1) + std::exp(-g)) * up[i];
  }
}

// d silu/dg = σ(g)·(1 + g·(1 - σ(g))).
template <typename F>
void swiglu_backward_t(F* d_gate, F* d_up, const F* d_out, const F* gate, const F* up, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const F g = gate[i], u = up[i], dy = d_out[i];
    const F s = F(1) / (F(1) + std::exp(-g));
    d_gate[i] = dy * u * s * (F(1) + g * (F(1) - s));
    d_up[i] = dy * g * s;
  }
}

template void swiglu_forward_t<float>(float*, const float*, const float*, int64_t);
template void swiglu_forward_t<double>(double*, const double*, const double*, int64_t);
template void swiglu_backward_t<float>(float*, float*, const float*, const float*, const float*,
                                       int64_t);
template void swiglu_backward_t<double>(double*, double*, const double*, const double*,
                                        const double*, int64_t);

void swiglu_forward(float* out, const float* gate, const float* up, int64_t n) {
  swiglu_forward_t<float>(out, gate, up, n);
}

void swiglu_backward(float* d_gate, float* d_up, const float* d_out, const float* gate,
                     const float* up, int64_t n) {
  swiglu_backward_t<float>(d_gate, d_up, d_out, gate, up, n);
}

}  // namespace radlads
