// Causal softmax attention with grouped-query heads over one sequence, for
// prefill and KV-cache decode alike: Tq new queries at the end of Tk keys;
// and its backward over a full sequence (training the hybrid students' kept
// softmax layers).
#pragma once

#include <cstdint>

namespace radlads {

// out (Tq, H, N); q (Tq, H, N); k, v: Tk rows of kv_stride floats, head g at
// offset g*N (KVH = H / group). Query i sits at position Tk - Tq + i and sees
// keys 0 .. Tk - Tq + i. Scale N^-1/2. Query head h uses KV head h / (H/KVH).
void attention_forward(float* out, const float* q, const float* k, const float* v, int Tq, int Tk,
                       int H, int KVH, int N, int64_t kv_stride);

// Full causal sequence (Tq = Tk = T), kv rows of KVH*N. d_q (T, H, N), d_k and
// d_v (T, KVH, N) written (=); a KV head's gradient is the sum over the H/KVH
// query heads that read it. d_out (T, H, N). The probabilities are recomputed
// (no T×T buffer is kept across heads), FlashAttention-2 style.
void attention_backward(float* d_q, float* d_k, float* d_v, const float* d_out, const float* q,
                        const float* k, const float* v, int T, int H, int KVH, int N);

// Scalar-generic bodies (float and double instantiated; double for FD tests).
template <typename F>
void attention_forward_t(F* out, const F* q, const F* k, const F* v, int Tq, int Tk, int H,
                         int KVH, int N, int64_t kv_stride);
template <typename F>
void attention_backward_t(F* d_q, F* d_k, F* d_v, const F* d_out, const F* q, const F* k,
                          const F* v, int T, int H, int KVH, int N);

// Per-position double-precision loop, the test oracle.
void attention_forward_naive(float* out, const float* q, const float* k, const float* v, int Tq,
                             int Tk, int H, int KVH, int N, int64_t kv_stride);

}  // namespace radlads
