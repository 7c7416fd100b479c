// GpuOps (gpu_ops.h): softmax attention as batched GEMMs around the row
// kernels of kernels_attention.h, and the WKV recurrences (kernels_wkv6.h,
// kernels_wkv7.h) dispatched on the head size.
#pragma once

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "backend/cuda/gpu_ops.h"

namespace radlads::gpu {

// Score memory per call: a chunk of queries at a time, so that rep × rows ×
// Tk floats stay under this (256 MB) at any context.
inline constexpr int64_t kAttentionScratchFloats = int64_t(64) << 20;

inline int attention_query_chunk(int Tq, int Tk, int rep) {
  const int64_t q = kAttentionScratchFloats / (int64_t(rep) * std::max(Tk, 1));
  return int(std::clamp<int64_t>(q, 1, std::max(Tq, 1)));
}

// The head sizes the WKV kernels are built for (the state row lives in registers).
template <class F>
void with_head_size(const char* op, int N, F&& f) {
  switch (N) {
    case 8: return f(std::integral_constant<int, 8>{});
    case 16: return f(std::integral_constant<int, 16>{});
    case 32: return f(std::integral_constant<int, 32>{});
    case 64: return f(std::integral_constant<int, 64>{});
    case 128: return f(std::integral_constant<int, 128>{});
    default: gpu_fail(op, ": the GPU kernels take head sizes 8, 16, 32, 64 or 128, not ", N);
  }
}

template <class RT>
void GpuOps<RT>::attention_forward(float* out, const float* q, const float* k, const float* v, int Tq, int Tk, int H,
                                   int KVH, int N, int64_t kv_stride) const {
  GPU_REQUIRE(Tq > 0 && Tk >= Tq && H > 0 && KVH > 0 && H % KVH == 0 && N > 0, "attention: bad dims Tq=", Tq,
              " Tk=", Tk, " H=", H, " KVH=", KVH);
  const int rep = H / KVH, qs = H * N, ks = int(kv_stride);
  const float scale = float(1.0 / std::sqrt(double(N)));
  const int Qb = attention_query_chunk(Tq, Tk, rep);
  Scratch<float> S(rt_, int64_t(rep) * Qb * Tk);
  for (int g = 0; g < KVH; g++)
    for (int q0 = 0; q0 < Tq; q0 += Qb) {
      const int nq = std::min(Qb, Tq - q0);
      const int64_t qo = int64_t(q0) * qs + int64_t(g) * rep * N;
      rt_.gemm_strided_batched(false, true, nq, Tk, N, scale, q + qo, qs, N, k + int64_t(g) * N, ks, 0, 0.0f, S.p,
                               Tk, int64_t(nq) * Tk, rep);
      rt_.template launch<CausalSoftmax>(rep * nq, row_block(), row_block() * 4, S.p, nq, q0, Tq, Tk);
      rt_.gemm_strided_batched(false, false, nq, N, Tk, 1.0f, S.p, Tk, int64_t(nq) * Tk, v + int64_t(g) * N, ks, 0,
                               0.0f, out + qo, qs, N, rep);
    }
}

template <class RT>
void GpuOps<RT>::attention_backward(float* d_q, float* d_k, float* d_v, const float* d_out, const float* q,
                                    const float* k, const float* v, int T, int H, int KVH, int N) const {
  GPU_REQUIRE(T > 0 && H > 0 && KVH > 0 && H % KVH == 0 && N > 0, "attention_backward: bad dims T=", T, " H=", H,
              " KVH=", KVH);
  const int rep = H / KVH, qs = H * N, ks = KVH * N;
  const float scale = float(1.0 / std::sqrt(double(N)));
  const int Qb = attention_query_chunk(T, T, rep);
  Scratch<float> P(rt_, int64_t(rep) * Qb * T), dP(rt_, int64_t(rep) * Qb * T);
  fill(d_k, 0.0f, int64_t(T) * ks);
  fill(d_v, 0.0f, int64_t(T) * ks);
  for (int g = 0; g < KVH; g++)
    for (int q0 = 0; q0 < T; q0 += Qb) {
      const int nq = std::min(Qb, T - q0);
      const int64_t qo = int64_t(q0) * qs + int64_t(g) * rep * N, sz = int64_t(nq) * T;
      const float* kg = k + int64_t(g) * N;
      const float* vg = v + int64_t(g) * N;
      rt_.gemm_strided_batched(false, true, nq, T, N, scale, q + qo, qs, N, kg, ks, 0, 0.0f, P.p, T, sz, rep);
      rt_.template launch<CausalSoftmax>(rep * nq, row_block(), row_block() * 4, P.p, nq, q0, T, T);
      rt_.gemm_strided_batched(false, true, nq, T, N, 1.0f, d_out + qo, qs, N, vg, ks, 0, 0.0f, dP.p, T, sz, rep);
      rt_.template launch<SoftmaxBackward>(rep * nq, row_block(), row_block() * 4, dP.p, P.p, T, scale);
      rt_.gemm_strided_batched(false, false, nq, N, T, 1.0f, dP.p, T, sz, kg, ks, 0, 0.0f, d_q + qo, qs, N, rep);
      for (int r = 0; r < rep; r++) {  // the group's heads add into one KV head: one GEMM each
        rt_.gemm(true, false, T, N, nq, 1.0f, dP.p + r * sz, T, q + qo + r * N, qs, 1.0f, d_k + int64_t(g) * N, ks);
        rt_.gemm(true, false, T, N, nq, 1.0f, P.p + r * sz, T, d_out + qo + r * N, qs, 1.0f, d_v + int64_t(g) * N,
                 ks);
      }
    }
}

template <class RT>
void GpuOps<RT>::wkv6_forward(float* out, float* state, const float* r, const float* k, const float* v,
                              const float* logw, int B, int T, int H, int N, float scale) const {
  GPU_REQUIRE(B > 0 && T > 0 && H > 0, "wkv6: bad dims B=", B, " T=", T, " H=", H);
  with_head_size("wkv6", N, [&](auto n) {
    constexpr int NN = decltype(n)::value;
    rt_.template launch<Wkv6Forward<NN>>(B * H, NN, 3 * NN * 4, out, state, r, k, v, logw, T, H, scale);
  });
}

template <class RT>
void GpuOps<RT>::wkv6_backward(float* d_r, float* d_k, float* d_v, float* d_logw, float* d_state0,
                               const float* d_out, const float* d_state_final, const float* r, const float* k,
                               const float* v, const float* logw, const float* state0, int B, int T, int H, int N,
                               float scale) const {
  GPU_REQUIRE(B > 0 && T > 0 && H > 0, "wkv6_backward: bad dims B=", B, " T=", T, " H=", H);
  with_head_size("wkv6_backward", N, [&](auto n) {
    constexpr int NN = decltype(n)::value;
    rt_.template launch<Wkv6Backward<NN>>(B * H, NN, 3 * NN * 4, d_r, d_k, d_v, d_logw, d_state0, d_out,
                                          d_state_final, r, k, v, logw, state0, T, H, scale);
  });
}

template <class RT>
void GpuOps<RT>::wkv7_forward(float* out, float* state, const float* r, const float* w, const float* k,
                              const float* v, const float* a, const float* b, int B, int T, int H, int N,
                              float scale) const {
  GPU_REQUIRE(B > 0 && T > 0 && H > 0, "wkv7: bad dims B=", B, " T=", T, " H=", H);
  with_head_size("wkv7", N, [&](auto n) {
    constexpr int NN = decltype(n)::value;
    rt_.template launch<Wkv7Forward<NN>>(B * H, NN, 5 * NN * 4, out, state, r, w, k, v, a, b, T, H, scale);
  });
}

template <class RT>
void GpuOps<RT>::wkv7_backward(float* d_r, float* d_w, float* d_k, float* d_v, float* d_a, float* d_b,
                               float* d_state0, const float* d_out, const float* d_state_final, const float* r,
                               const float* w, const float* k, const float* v, const float* a, const float* b,
                               const float* state0, int B, int T, int H, int N, float scale) const {
  GPU_REQUIRE(B > 0 && T > 0 && H > 0, "wkv7_backward: bad dims B=", B, " T=", T, " H=", H);
  with_head_size("wkv7_backward", N, [&](auto n) {
    constexpr int NN = decltype(n)::value;
    Scratch<float> scratch(rt_, int64_t(B) * H * wkv7_backward_scratch_floats<NN>(T));
    const size_t smem = size_t(2 * NN * (NN + 1) + 4 * NN) * 4;
    rt_.template launch<Wkv7Backward<NN>>(B * H, NN, smem, d_r, d_w, d_k, d_v, d_a, d_b, d_state0, scratch.p, d_out,
                                          d_state_final, r, w, k, v, a, b, state0, T, H, scale);
  });
}

}  // namespace radlads::gpu
