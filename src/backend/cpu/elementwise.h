// Element-wise and reduction helpers of the CPU backend over flat float
// arrays (OpenMP over elements or columns; results independent of the thread
// count).
#pragma once

#include <cstdint>

namespace radlads {

void add_inplace(float* x, const float* y, int64_t n);          // x += y
void scale_inplace(float* x, float s, int64_t n);               // x *= s
void mul(float* out, const float* a, const float* b, int64_t n);  // out = a⊙b (may alias)
// d_a = d_out⊙b, d_b = d_out⊙a (either may alias d_out).
void mul_backward(float* d_a, float* d_b, const float* d_out, const float* a, const float* b, int64_t n);
void fill(float* x, float value, int64_t n);
// out (n) += column sums of d (M,n), each in double over rows in order; null out: no-op.
void add_colsum(float* out, const float* d, int64_t M, int64_t n);

}  // namespace radlads
