// RAD-RWKV7's fused element-wise stages (time_mix.cpp names each where it is
// used): decay and in-context rate, the keys, the value residual, and their
// backwards. The generic ops come from the Backend; these are the
// architecture's own, one table per device: kernels_cpu.cpp is the CPU's, kernels_gpu.h a GPU runtime's.
// All arrays (M,A) unless said; per-channel parameters (A).
#pragma once

#include <cstdint>

#include "backend/backend.h"

namespace radlads {

struct Rwkv7Kernels {
  // s = σ(sw + w0) (kept in sw), w = exp(−e^−0.5·s); a = σ(a + a0) in place.
  void (*decay_iclr)(float* sw, float* w, float* a, const float* w0, const float* a0, int64_t M, int64_t A);
  // balance_state: kk = k, k̃ = k⊙(1 − w + a); else kk = k⊙k_k, k̃ = k⊙(1 + (a−1)⊙k_a).
  void (*keys)(float* kk, float* kt, const float* ke, const float* a, const float* w, const float* k_k,
               const float* k_a, int64_t M, int64_t A, bool balance);
  // s = σ(vs + v0) (kept in vs); vmix = v + (v_first − v)⊙s.
  void (*value_residual)(float* vs, float* vmix, const float* ve, const float* v_first, const float* v0, int64_t M,
                         int64_t A);
  // ka = −κ, kb = κ⊙a.
  void (*ka_kb)(float* ka, float* kb, const float* kappa, const float* a, int64_t n);
  // ka_kb's backward in place: d_ka becomes ∂/∂κ, d_kb becomes ∂/∂a.
  void (*ka_kb_backward)(float* d_ka, float* d_kb, const float* a, const float* kappa, int64_t n);
  // value_residual's backward: d_v_first (nullable) += d_vm⊙s; d_vs = ∂/∂(vs + v0); d_vm becomes ∂/∂v.
  void (*value_residual_backward)(float* d_v_first, float* d_vs, float* d_vm, const float* vs,
                                  const float* v_first, const float* ve, int64_t n);
  // keys' backward: d_kt becomes ∂/∂k; d_w, d_a gain k̃'s terms; d_k_k_rows,
  // d_k_a_rows (nullable; not balance) get the per-row terms of ∂/∂k_k, ∂/∂k_a.
  void (*keys_backward)(float* d_w, float* d_a, float* d_kt, float* d_k_k_rows, float* d_k_a_rows,
                        const float* d_kk, const float* ke, const float* a, const float* w, const float* k_k,
                        const float* k_a, int64_t M, int64_t A, bool balance);
  // decay_iclr's backward in place: d_w, d_a become the gradients of the pre-σ inputs.
  void (*decay_iclr_backward)(float* d_w, float* d_a, const float* sw, const float* w, const float* a, int64_t n);
};

// The table for be's device; throws Error when this build has none. Tables
// of other devices are found by their backend's name: kernels_cuda.cu's
// ("cuda", kernels_gpu.h on the CUDA runtime) where the build has CUDA, and
// any registered (the tests register the host emulation's, "cuda-sim").
const Rwkv7Kernels& rwkv7_kernels(const Backend& be);
void register_rwkv7_kernels(const char* backend_name, const Rwkv7Kernels& table);
#if RADLADS_HAVE_CUDA
const Rwkv7Kernels& rwkv7_cuda_kernels();
#endif

}  // namespace radlads
