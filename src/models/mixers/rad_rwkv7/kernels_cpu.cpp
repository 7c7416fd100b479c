// RAD-RWKV7's fused stages on the CPU (OpenMP over elements; each output
// computed exactly as the stage's formula in kernels.h).
#include <cmath>

#include "backend/cpu/activations.h"  // sigmoid
#include "core/error.h"
#include "models/mixers/kernel_tables.h"
#include "models/mixers/rad_rwkv7/kernels.h"

namespace radlads {

namespace {

// w = exp(−e^−0.5 σ(z)) keeps the decay in (e^−e^−0.5, 1) ≈ (0.545, 1).
const float kDecayScale = float(std::exp(-0.5));

void decay_iclr(float* sw, float* w, float* a, const float* w0, const float* a0, int64_t M, int64_t A) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) {
    const int64_t c = i % A;
    const float s = sigmoid(sw[i] + w0[c]);
    sw[i] = s;
    w[i] = std::exp(-kDecayScale * s);
    a[i] = sigmoid(a[i] + a0[c]);
  }
}

void keys(float* kk, float* kt, const float* ke, const float* a, const float* w, const float* k_k, const float* k_a,
          int64_t M, int64_t A, bool balance) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) {
    const int64_t c = i % A;
    const float k = ke[i], ai = a[i];
    kk[i] = balance ? k : k * k_k[c];
    kt[i] = balance ? k * (1.0f - w[i] + ai) : k * (1.0f + (ai - 1.0f) * k_a[c]);
  }
}

void value_residual(float* vs, float* vmix, const float* ve, const float* v_first, const float* v0, int64_t M,
                    int64_t A) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) {
    const float s = sigmoid(vs[i] + v0[i % A]);
    vs[i] = s;
    vmix[i] = ve[i] + (v_first[i] - ve[i]) * s;
  }
}

void ka_kb(float* ka, float* kb, const float* kappa, const float* a, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    ka[i] = -kappa[i];
    kb[i] = kappa[i] * a[i];
  }
}

void ka_kb_backward(float* d_ka, float* d_kb, const float* a, const float* kappa, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float dkb = d_kb[i];
    d_ka[i] = dkb * a[i] - d_ka[i];
    d_kb[i] = dkb * kappa[i];
  }
}

void value_residual_backward(float* d_v_first, float* d_vs, float* d_vm, const float* vs, const float* v_first,
                             const float* ve, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float s = vs[i], dvm = d_vm[i];
    if (d_v_first) d_v_first[i] += dvm * s;
    d_vs[i] = dvm * (v_first[i] - ve[i]) * s * (1.0f - s);  // through σ to its input
    d_vm[i] = dvm * (1.0f - s);
  }
}

void keys_backward(float* d_w, float* d_a, float* d_kt, float* d_k_k_rows, float* d_k_a_rows, const float* d_kk,
                   const float* ke, const float* a, const float* w, const float* k_k, const float* k_a, int64_t M,
                   int64_t A, bool balance) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) {
    const int64_t c = i % A;
    const float k = ke[i], ai = a[i], dkt = d_kt[i], dkk = d_kk[i];
    if (balance) {
      d_w[i] -= dkt * k;
      d_a[i] += dkt * k;
      d_kt[i] = dkk + dkt * (1.0f - w[i] + ai);
    } else {
      if (d_k_k_rows) d_k_k_rows[i] = dkk * k;
      if (d_k_a_rows) d_k_a_rows[i] = dkt * k * (ai - 1.0f);
      d_a[i] += dkt * k * k_a[c];
      d_kt[i] = dkk * k_k[c] + dkt * (1.0f + (ai - 1.0f) * k_a[c]);
    }
  }
}

// ∂w/∂z = −e^−0.5·w·s(1−s) with s = σ(z) stored; ∂a/∂z = a(1−a).
void decay_iclr_backward(float* d_w, float* d_a, const float* sw, const float* w, const float* a, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float s = sw[i], ai = a[i];
    d_w[i] *= -kDecayScale * w[i] * s * (1.0f - s);
    d_a[i] *= ai * (1.0f - ai);
  }
}

const Rwkv7Kernels kCpu = {decay_iclr,     keys,           value_residual, ka_kb, ka_kb_backward,
                           value_residual_backward, keys_backward, decay_iclr_backward};

KernelTables<Rwkv7Kernels>& tables() {
  static KernelTables<Rwkv7Kernels> t;
  return t;
}

const Rwkv7Kernels* cuda_table() {
#if RADLADS_HAVE_CUDA
  return &rwkv7_cuda_kernels();
#else
  return nullptr;
#endif
}

}  // namespace

void register_rwkv7_kernels(const char* backend_name, const Rwkv7Kernels& table) { tables().add(backend_name, table); }

const Rwkv7Kernels& rwkv7_kernels(const Backend& be) { return tables().find(be, kCpu, cuda_table, "RAD-RWKV7"); }

}  // namespace radlads
