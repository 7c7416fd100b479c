// WKV7: the DPLR ("generalised delta rule") recurrence of RAD-RWKV7 (DESIGN.md
// "Students"; fla generalized_delta_rule / rwkv7). Per (batch, head), a
// value-major state S (N_v x N_k):
//   S_t = S_{t-1} (diag(w_t) + a_tᵀ b_t) + v_tᵀ k_t ,   o_t = scale · S_t r_t
// i.e. per value row j: s_j ← s_j ⊙ w + (s_j·a) b + v[j] k ; o[j] = scale s_j·r.
// The model passes a = −κ, b = κ ⊙ a_icl, k = k̃, scale = N^-1/2 (or 1).
//
// Layouts: r, w, k, v, a, b, out and every d_* of them are (B,T,H,N)
// contiguous. w is the decay itself (the model's exp(−e^−0.5 σ(·)) ∈ (0.545,
// 1)), not its log: the recurrence only multiplies by it, and the model owns
// the exp and its derivative. State (B,H,N,N): S[b][h][j][i], j the value row,
// i the key column (the one w decays) — the layout of RWKV-7 checkpoints.
// The fast kernels need N to be a multiple of 8 (CHECKed); the naive one not.
// They are built per ISA (backend/cpu/isa.h): the AVX-512 build works on 16 (float) or
// 8 (double) key columns at a time when N allows, else on the AVX2 width.
#pragma once

#include "backend/cpu/isa.h"

namespace radlads {

// Per-token loop with a double state: the test oracle. state: in = initial,
// out = final; nullptr = zero initial state, final state discarded.
void wkv7_forward_naive(float* out, float* state, const float* r, const float* w, const float* k,
                        const float* v, const float* a, const float* b, int B, int T, int H, int N,
                        float scale);

// Fast forward (training and prefill): the sequential recurrence, vectorised
// along the key axis and parallel over (batch, head). On the 2-core AVX2 CPU it
// beats any chunked (WY) form for N = 64: see bench/bench_wkv.cpp.
void wkv7_forward(float* out, float* state, const float* r, const float* w, const float* k,
                  const float* v, const float* a, const float* b, int B, int T, int H, int N,
                  float scale);

// One token (decode): every tensor (B,H,N) except state (B,H,N,N), updated in
// place (required). Same result as wkv7_forward with T = 1.
void wkv7_step(float* out, float* state, const float* r, const float* w, const float* k,
               const float* v, const float* a, const float* b, int B, int H, int N, float scale);

// Backward of wkv7_forward. d_r, d_w, d_k, d_v, d_a, d_b (B,T,H,N) written (=);
// d_state0 (B,H,N,N) written, nullable; d_out (B,T,H,N); d_state_final
// (B,H,N,N) nullable (= zeros); state0 nullable (= zeros). States are
// checkpointed every 32 tokens and recomputed a chunk at a time.
void wkv7_backward(float* d_r, float* d_w, float* d_k, float* d_v, float* d_a, float* d_b,
                   float* d_state0, const float* d_out, const float* d_state_final, const float* r,
                   const float* w, const float* k, const float* v, const float* a, const float* b,
                   const float* state0, int B, int T, int H, int N, float scale);

// Scalar-generic bodies (float and double instantiated; double for FD tests).
template <typename F>
void wkv7_forward_naive_t(F* out, F* state, const F* r, const F* w, const F* k, const F* v,
                          const F* a, const F* b, int B, int T, int H, int N, double scale);
template <typename F>
void wkv7_forward_t(F* out, F* state, const F* r, const F* w, const F* k, const F* v, const F* a,
                    const F* b, int B, int T, int H, int N, double scale);
template <typename F>
void wkv7_backward_t(F* d_r, F* d_w, F* d_k, F* d_v, F* d_a, F* d_b, F* d_state0, const F* d_out,
                     const F* d_state_final, const F* r, const F* w, const F* k, const F* v,
                     const F* a, const F* b, const F* state0, int B, int T, int H, int N,
                     double scale);

}  // namespace radlads

// The per-ISA bodies behind wkv7_forward_t / wkv7_backward_t (dims checked by the caller).
#define RADLADS_WKV7_KERNELS                                                                              \
  template <typename F>                                                                                   \
  void wkv7_forward_impl(F* out, F* state, const F* r, const F* w, const F* k, const F* v, const F* a,    \
                         const F* b, int B, int T, int H, int N, double scale);                           \
  template <typename F>                                                                                   \
  void wkv7_backward_impl(F* d_r, F* d_w, F* d_k, F* d_v, F* d_a, F* d_b, F* d_state0, const F* d_out,   \
                          const F* d_state_final, const F* r, const F* w, const F* k, const F* v,         \
                          const F* a, const F* b, const F* state0, int B, int T, int H, int N, double scale);
RADLADS_ISA_DECLARE(RADLADS_WKV7_KERNELS)
