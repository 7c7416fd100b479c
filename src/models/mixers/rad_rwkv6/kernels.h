// RAD-RWKV6's fused element-wise stages (time_mix.cpp names each where it is
// used): the token shift and its five mixes, the decay, and their backwards.
// The generic ops (GEMMs, norms, WKV) come from the Backend; these are the
// architecture's own, one table per device: kernels_cpu.cpp is the CPU's, kernels_gpu.h a GPU runtime's.
// Rows are M = B·T, channels C (model width) or A (attention width).
#pragma once

#include <cstdint>

#include "backend/backend.h"

namespace radlads {

struct Rwkv6Kernels {
  // x₋₁ (the previous row of the same sequence of T; shift (B,C) or zero at
  // t = 0), δ = x₋₁ − x, xxx = x + δ⊙maa_x. All (M,C).
  void (*token_shift)(float* xprev, float* delta, float* xxx, const float* xn, const float* shift,
                      const float* maa_x, int64_t M, int T, int64_t C);
  // x5[s] = x + δ⊙(maa[s] + m[s]) for the five mixes s (x5, m: (5,M,C)).
  void (*mix5)(float* x5, const float* xn, const float* delta, const float* const maa[5], const float* m,
               int64_t M, int64_t C);
  // dd += time_decay; log w = max(−exp(dd), −5); kbal = k⊙(1−w) (balance) or k. (M,A)
  void (*decay)(float* dd, float* logw, float* kbal, const float* time_decay, const float* ke, int64_t M,
                int64_t A, bool balance);
  // decay's backward, in place: d_kb becomes ∂/∂k, d_lw becomes ∂/∂dd.
  void (*decay_backward)(float* d_kb, float* d_lw, const float* logw, const float* ke, const float* dd, int64_t M,
                         int64_t A, bool balance);
  // d_xn = Σ_s d_x5[s] (no token shift: x_s = x).
  void (*sum5)(float* d_xn, const float* d_x5, int64_t M, int64_t C);
  // One mix's backward: d_delta += d_xs⊙(maa + m_s); d_m = d_xs⊙δ.
  void (*mix_backward)(float* d_delta, float* d_m, const float* d_xs, const float* maa, const float* ms,
                       const float* delta, int64_t M, int64_t C);
  // xxx's backward: d_delta += d_xxx⊙maa_x; d_m = d_xxx⊙δ.
  void (*xxx_backward)(float* d_delta, float* d_m, const float* d_xxx, const float* maa_x, const float* delta,
                       int64_t M, int64_t C);
  // δ = x₋₁ − x back to x: d_xn = Σ_s d_x5[s] + d_xxx − d_delta + d_delta of the next row (same sequence).
  void (*token_shift_backward)(float* d_xn, const float* d_x5, const float* d_xxx, const float* d_delta,
                               int64_t M, int T, int64_t C);
};

// The table for be's device; throws Error when this build has none. Tables
// of other devices are found by their backend's name: kernels_cuda.cu's
// ("cuda", kernels_gpu.h on the CUDA runtime) where the build has CUDA, and
// any registered (the tests register the host emulation's, "cuda-sim").
const Rwkv6Kernels& rwkv6_kernels(const Backend& be);
void register_rwkv6_kernels(const char* backend_name, const Rwkv6Kernels& table);
#if RADLADS_HAVE_CUDA
const Rwkv6Kernels& rwkv6_cuda_kernels();
#endif

}  // namespace radlads
