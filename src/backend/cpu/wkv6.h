// WKV6: the GLA-style linear-attention recurrence of RAD-RWKV6 (DESIGN.md
// "Students"). Per (batch, head), a key-major state S (N_k x N_v):
//   S_t = diag(w_t) S_{t-1} + k_tᵀ v_t ,   o_t = (r_t * scale) S_t
// (the current token is included; there is no bonus u). w = exp(logw).
//
// Layouts: r, k, v, logw, out and every d_* of them are (B,T,H,N) contiguous.
// State (B,H,N,N): S[b][h][i][j], i the key channel (the one w decays), j the
// value channel. logw must be ≤ 0 (CHECKed by the fast kernels; the model
// clamps it to [-5, 0]); any value in [-inf, 0] is handled without overflow,
// because every decay factor is formed as a product of w's ≤ 1, never as
// exp(b_t)/exp(b_s) of cumulative log-decays. The chunked forward and the
// backward need N to be a multiple of 8 (CHECKed); the naive one and the step
// do not.
#pragma once

namespace radlads {

// Per-token loop with a double state: the test oracle. state: in = initial,
// out = final; nullptr = zero initial state, final state discarded.
void wkv6_forward_naive(float* out, float* state, const float* r, const float* k, const float* v,
                        const float* logw, int B, int T, int H, int N, float scale);

// Chunked parallel form (training and prefill): chunks of 32 tokens, the
// inter-chunk terms as sgemm against the chunk-start state, the intra-chunk
// decayed attention from running products of w. Any T ≥ 1. state as above.
void wkv6_forward(float* out, float* state, const float* r, const float* k, const float* v,
                  const float* logw, int B, int T, int H, int N, float scale);

// One token (decode): out, r, k, v, logw (B,H,N); state (B,H,N,N) updated in
// place (required). Same result as wkv6_forward with T = 1.
void wkv6_step(float* out, float* state, const float* r, const float* k, const float* v,
               const float* logw, int B, int H, int N, float scale);

// Backward of wkv6_forward. d_r, d_k, d_v, d_logw (B,T,H,N) written (=);
// d_state0 (B,H,N,N) written, nullable (not wanted); d_out (B,T,H,N);
// d_state_final (B,H,N,N) nullable (= zeros); state0 nullable (= zeros).
// Chunk-start states are recomputed (one N×N per chunk per head), never the
// T per-token states.
void wkv6_backward(float* d_r, float* d_k, float* d_v, float* d_logw, float* d_state0,
                   const float* d_out, const float* d_state_final, const float* r, const float* k,
                   const float* v, const float* logw, const float* state0, int B, int T, int H,
                   int N, float scale);

// Scalar-generic bodies (float and double instantiated; double for FD tests).
template <typename F>
void wkv6_forward_naive_t(F* out, F* state, const F* r, const F* k, const F* v, const F* logw,
                          int B, int T, int H, int N, double scale);
template <typename F>
void wkv6_forward_t(F* out, F* state, const F* r, const F* k, const F* v, const F* logw, int B,
                    int T, int H, int N, double scale);
template <typename F>
void wkv6_step_t(F* out, F* state, const F* r, const F* k, const F* v, const F* logw, int B, int H,
                 int N, double scale);
template <typename F>
void wkv6_backward_t(F* d_r, F* d_k, F* d_v, F* d_logw, F* d_state0, const F* d_out,
                     const F* d_state_final, const F* r, const F* k, const F* v, const F* logw,
                     const F* state0, int B, int T, int H, int N, double scale);

}  // namespace radlads
