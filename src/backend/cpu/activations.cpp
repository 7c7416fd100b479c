// Elementwise activations, forward and backward (see activations.h for the
// formulas and the in-place rule). OpenMP over elements: these run over
// (M, C)-sized tensors in the students' LoRAs and gates.
#include "backend/cpu/activations.h"

#include <cmath>

namespace radlads {

template <typename F>
void tanh_forward_t(F* out, const F* inp, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) out[i] = std::tanh(inp[i]);
}

template <typename F>
void tanh_backward_t(F* d_inp, const F* d_out, const F* out, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) d_inp[i] = d_out[i] * (F(1) - out[i] * out[i]);
}

template <typename F>
void sigmoid_forward_t(F* out, const F* inp, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) out[i] = sigmoid(inp[i]);
}

template <typename F>
void sigmoid_backward_t(F* d_inp, const F* d_out, const F* out, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) d_inp[i] = d_out[i] * out[i] * (F(1) - out[i]);
}

template <typename F>
void silu_forward_t(F* out, const F* inp, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) out[i] = inp[i] * sigmoid(inp[i]);
}

template <typename F>
void silu_backward_t(F* d_inp, const F* d_out, const F* inp, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const F x = inp[i], s = sigmoid(x);
    d_inp[i] = d_out[i] * s * (F(1) + x * (F(1) - s));
  }
}

#define RADLADS_INSTANTIATE(F)                                             \
  template void tanh_forward_t<F>(F*, const F*, int64_t);                  \
  template void tanh_backward_t<F>(F*, const F*, const F*, int64_t);       \
  template void sigmoid_forward_t<F>(F*, const F*, int64_t);               \
  template void sigmoid_backward_t<F>(F*, const F*, const F*, int64_t);    \
  template void silu_forward_t<F>(F*, const F*, int64_t);                  \
  template void silu_backward_t<F>(F*, const F*, const F*, int64_t);
RADLADS_INSTANTIATE(float)
RADLADS_INSTANTIATE(double)
#undef RADLADS_INSTANTIATE

void tanh_forward(float* out, const float* inp, int64_t n) { tanh_forward_t<float>(out, inp, n); }
void tanh_backward(float* d_inp, const float* d_out, const float* out, int64_t n) {
  tanh_backward_t<float>(d_inp, d_out, out, n);
}
void sigmoid_forward(float* out, const float* inp, int64_t n) {
  sigmoid_forward_t<float>(out, inp, n);
}
void sigmoid_backward(float* d_inp, const float* d_out, const float* out, int64_t n) {
  sigmoid_backward_t<float>(d_inp, d_out, out, n);
}
void silu_forward(float* out, const float* inp, int64_t n) { silu_forward_t<float>(out, inp, n); }
void silu_backward(float* d_inp, const float* d_out, const float* inp, int64_t n) {
  silu_backward_t<float>(d_inp, d_out, inp, n);
}

}  // namespace radlads
