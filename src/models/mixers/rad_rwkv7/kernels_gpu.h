// RAD-RWKV7's fused stages (kernels.h) for a GPU runtime: functors over a
// thread context (backend/cuda/simt.h), one element per thread, each the
// formula of kernels_cpu.cpp; Rwkv7GpuKernels<RT>::table() launches them on
// runtime RT (kernels_cuda.cu: CudaRuntime; the tests: the host emulation).
#pragma once

#include <cmath>
#include <cstdint>

#include "backend/cuda/simt.h"
#include "models/mixers/rad_rwkv7/kernels.h"

namespace radlads::rwkv7_gpu {

RADLADS_HD inline float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }
inline constexpr float kDecayScale = 0.60653065971263342f;  // e^−0.5: w = exp(−e^−0.5 σ(z))

struct DecayIclr {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* sw, float* w, float* a, const float* w0, const float* a0, int64_t M,
                             int64_t A) const {
    RADLADS_GRID_STRIDE(i, M * A) {
      const int64_t c = i % A;
      const float s = sigm(sw[i] + w0[c]);
      sw[i] = s;
      w[i] = expf(-kDecayScale * s);
      a[i] = sigm(a[i] + a0[c]);
    }
  }
};

struct Keys {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* kk, float* kt, const float* ke, const float* a, const float* w,
                             const float* k_k, const float* k_a, int64_t M, int64_t A, bool balance) const {
    RADLADS_GRID_STRIDE(i, M * A) {
      const int64_t c = i % A;
      const float x = ke[i], ai = a[i];
      kk[i] = balance ? x : x * k_k[c];
      kt[i] = balance ? x * (1.0f - w[i] + ai) : x * (1.0f + (ai - 1.0f) * k_a[c]);
    }
  }
};

struct ValueResidual {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* vs, float* vmix, const float* ve, const float* v_first,
                             const float* v0, int64_t M, int64_t A) const {
    RADLADS_GRID_STRIDE(i, M * A) {
      const float s = sigm(vs[i] + v0[i % A]);
      vs[i] = s;
      vmix[i] = ve[i] + (v_first[i] - ve[i]) * s;
    }
  }
};

struct KaKb {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* ka, float* kb, const float* kappa, const float* a, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) {
      const float x = kappa[i], ai = a[i];
      ka[i] = -x;
      kb[i] = x * ai;
    }
  }
};

struct KaKbBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_ka, float* d_kb, const float* a, const float* kappa,
                             int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) {
      const float dkb = d_kb[i];
      d_ka[i] = dkb * a[i] - d_ka[i];
      d_kb[i] = dkb * kappa[i];
    }
  }
};

struct ValueResidualBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_v_first, float* d_vs, float* d_vm, const float* vs,
                             const float* v_first, const float* ve, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) {
      const float s = vs[i], dvm = d_vm[i];
      if (d_v_first) d_v_first[i] += dvm * s;
      d_vs[i] = dvm * (v_first[i] - ve[i]) * s * (1.0f - s);
      d_vm[i] = dvm * (1.0f - s);
    }
  }
};

struct KeysBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_w, float* d_a, float* d_kt, float* d_k_k_rows, float* d_k_a_rows,
                             const float* d_kk, const float* ke, const float* a, const float* w, const float* k_k,
                             const float* k_a, int64_t M, int64_t A, bool balance) const {
    RADLADS_GRID_STRIDE(i, M * A) {
      const int64_t c = i % A;
      const float x = ke[i], ai = a[i], dkt = d_kt[i], dkk = d_kk[i];
      if (balance) {
        d_w[i] -= dkt * x;
        d_a[i] += dkt * x;
        d_kt[i] = dkk + dkt * (1.0f - w[i] + ai);
      } else {
        if (d_k_k_rows) d_k_k_rows[i] = dkk * x;
        if (d_k_a_rows) d_k_a_rows[i] = dkt * x * (ai - 1.0f);
        d_a[i] += dkt * x * k_a[c];
        d_kt[i] = dkk * k_k[c] + dkt * (1.0f + (ai - 1.0f) * k_a[c]);
      }
    }
  }
};

struct DecayIclrBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_w, float* d_a, const float* sw, const float* w, const float* a,
                             int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) {
      const float s = sw[i], ai = a[i];
      d_w[i] *= -kDecayScale * w[i] * s * (1.0f - s);
      d_a[i] *= ai * (1.0f - ai);
    }
  }
};

template <class RT>
struct Rwkv7GpuKernels {
  template <class Fn, class... A>
  static void run(int64_t n, A... a) {
    gpu::launch_elements<Fn>(RT(), n, a...);
  }
  static void decay_iclr(float* sw, float* w, float* a, const float* w0, const float* a0, int64_t M, int64_t A) {
    run<DecayIclr>(M * A, sw, w, a, w0, a0, M, A);
  }
  static void keys(float* kk, float* kt, const float* ke, const float* a, const float* w, const float* k_k,
                   const float* k_a, int64_t M, int64_t A, bool balance) {
    run<Keys>(M * A, kk, kt, ke, a, w, k_k, k_a, M, A, balance);
  }
  static void value_residual(float* vs, float* vmix, const float* ve, const float* v_first, const float* v0, int64_t M,
                             int64_t A) {
    run<ValueResidual>(M * A, vs, vmix, ve, v_first, v0, M, A);
  }
  static void ka_kb(float* ka, float* kb, const float* kappa, const float* a, int64_t n) {
    run<KaKb>(n, ka, kb, kappa, a, n);
  }
  static void ka_kb_backward(float* d_ka, float* d_kb, const float* a, const float* kappa, int64_t n) {
    run<KaKbBackward>(n, d_ka, d_kb, a, kappa, n);
  }
  static void value_residual_backward(float* d_v_first, float* d_vs, float* d_vm, const float* vs,
                                      const float* v_first, const float* ve, int64_t n) {
    run<ValueResidualBackward>(n, d_v_first, d_vs, d_vm, vs, v_first, ve, n);
  }
  static void keys_backward(float* d_w, float* d_a, float* d_kt, float* d_k_k_rows, float* d_k_a_rows,
                            const float* d_kk, const float* ke, const float* a, const float* w, const float* k_k,
                            const float* k_a, int64_t M, int64_t A, bool balance) {
    run<KeysBackward>(M * A, d_w, d_a, d_kt, d_k_k_rows, d_k_a_rows, d_kk, ke, a, w, k_k, k_a, M, A, balance);
  }
  static void decay_iclr_backward(float* d_w, float* d_a, const float* sw, const float* w, const float* a, int64_t n) {
    run<DecayIclrBackward>(n, d_w, d_a, sw, w, a, n);
  }
  static const Rwkv7Kernels& table() {
    static const Rwkv7Kernels t = {decay_iclr,     keys,           value_residual,
                                   ka_kb,          ka_kb_backward, value_residual_backward,
                                   keys_backward,  decay_iclr_backward};
    return t;
  }
};

}  // namespace radlads::rwkv7_gpu
