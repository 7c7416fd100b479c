#include "backend/cpu/elementwise.h"

namespace radlads {

void add_inplace(float* x, const float* y, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) x[i] += y[i];
}

void scale_inplace(float* x, float s, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) x[i] *= s;
}

void mul(float* out, const float* a, const float* b, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

void mul_backward(float* d_a, float* d_b, const float* d_out, const float* a, const float* b, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float d = d_out[i];
    d_a[i] = d * b[i];
    d_b[i] = d * a[i];
  }
}

void fill(float* x, float value, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) x[i] = value;
}

void add_colsum(float* out, const float* d, int64_t M, int64_t n) {
  if (!out) return;
  // Parallel over columns so each thread owns its outputs (no atomics).
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < n; j++) {
    double s = 0;
    for (int64_t m = 0; m < M; m++) s += d[m * n + j];
    out[j] += float(s);
  }
}

}  // namespace radlads
