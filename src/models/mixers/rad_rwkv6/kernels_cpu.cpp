// RAD-RWKV6's fused stages on the CPU (OpenMP over rows or elements; each
// output element computed exactly as the stage's formula in kernels.h).
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "models/mixers/kernel_tables.h"
#include "models/mixers/rad_rwkv6/kernels.h"

namespace radlads {

namespace {

constexpr float kLogWMin = -5.0f;  // DESIGN.md: log w = max(−exp(d), −5)

void token_shift(float* xprev, float* delta, float* xxx, const float* xn, const float* shift, const float* maa_x,
                 int64_t M, int T, int64_t C) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M; i++) {
    const int t = int(i % T), b = int(i / T);
    const float* prev = t > 0 ? xn + (i - 1) * C : (shift ? shift + int64_t(b) * C : nullptr);
    for (int64_t c = 0; c < C; c++) {
      const float xp = prev ? prev[c] : 0.0f;
      xprev[i * C + c] = xp;
      const float dl = xp - xn[i * C + c];
      delta[i * C + c] = dl;
      xxx[i * C + c] = xn[i * C + c] + dl * maa_x[c];
    }
  }
}

void mix5(float* x5, const float* xn, const float* delta, const float* const maa[5], const float* m, int64_t M,
          int64_t C) {
  for (int s = 0; s < 5; s++) {
    const float* ma = maa[s];
    const float* ms = m + s * M * C;
    float* xs = x5 + s * M * C;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M * C; i++) xs[i] = xn[i] + delta[i] * (ma[i % C] + ms[i]);
  }
}

void decay(float* dd, float* logw, float* kbal, const float* td, const float* ke, int64_t M, int64_t A,
           bool balance) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) {
    dd[i] += td[i % A];
    const float lw = std::max(-std::exp(dd[i]), kLogWMin);
    logw[i] = lw;
    kbal[i] = balance ? ke[i] * (1.0f - std::exp(lw)) : ke[i];
  }
}

// Where the clamp is active log w does not depend on d (torch.clamp passes the
// gradient only where the input is ≥ the bound), and ∂(−e^d)/∂d = log w.
void decay_backward(float* d_kb, float* d_lw, const float* logw, const float* ke, const float* dd, int64_t M,
                    int64_t A, bool balance) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) {
    float dlw = d_lw[i];
    if (balance) {
      const float w = std::exp(logw[i]);
      dlw -= d_kb[i] * ke[i] * w;
      d_kb[i] *= 1.0f - w;
    }
    d_lw[i] = -std::exp(dd[i]) >= kLogWMin ? dlw * logw[i] : 0.0f;
  }
}

void sum5(float* d_xn, const float* d_x5, int64_t M, int64_t C) {
  const int64_t n = M * C;
  const float *a = d_x5, *b = a + n, *c = b + n, *d = c + n, *e = d + n;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) d_xn[i] = a[i] + b[i] + c[i] + d[i] + e[i];
}

void mix_backward(float* d_delta, float* d_m, const float* d_xs, const float* maa, const float* ms,
                  const float* delta, int64_t M, int64_t C) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * C; i++) {
    d_delta[i] += d_xs[i] * (maa[i % C] + ms[i]);
    d_m[i] = d_xs[i] * delta[i];
  }
}

void xxx_backward(float* d_delta, float* d_m, const float* d_xxx, const float* maa_x, const float* delta, int64_t M,
                  int64_t C) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * C; i++) {
    d_delta[i] += d_xxx[i] * maa_x[i % C];
    d_m[i] = d_xxx[i] * delta[i];
  }
}

// Row 0 of a window has a zero x₋₁, so its δ sends nothing further back.
void token_shift_backward(float* d_xn, const float* d_x5, const float* d_xxx, const float* d_delta, int64_t M,
                          int T, int64_t C) {
  const int64_t n = M * C;
  const float *dxr = d_x5, *dxk = dxr + n, *dxv = dxk + n, *dxw = dxv + n, *dxg = dxw + n;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M; i++) {
    const bool has_next = int(i % T) < T - 1;  // row i is x₋₁ of row i+1
    for (int64_t c = 0; c < C; c++) {
      const int64_t j = i * C + c;
      float acc = dxr[j] + dxk[j] + dxv[j] + dxw[j] + dxg[j] + d_xxx[j] - d_delta[j];
      if (has_next) acc += d_delta[j + C];
      d_xn[j] = acc;
    }
  }
}

const Rwkv6Kernels kCpu = {token_shift, mix5, decay, decay_backward, sum5, mix_backward, xxx_backward,
                           token_shift_backward};

KernelTables<Rwkv6Kernels>& tables() {
  static KernelTables<Rwkv6Kernels> t;
  return t;
}

const Rwkv6Kernels* cuda_table() {
#if RADLADS_HAVE_CUDA
  return &rwkv6_cuda_kernels();
#else
  return nullptr;
#endif
}

}  // namespace

void register_rwkv6_kernels(const char* backend_name, const Rwkv6Kernels& table) { tables().add(backend_name, table); }

const Rwkv6Kernels& rwkv6_kernels(const Backend& be) { return tables().find(be, kCpu, cuda_table, "RAD-RWKV6"); }

}  // namespace radlads
