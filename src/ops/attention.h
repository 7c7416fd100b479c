// Causal softmax attention with grouped-query heads over one sequence, for
// prefill and KV-cache decode alike: Tq new queries at the end of Tk keys.
#pragma once

#include <cstdint>

namespace radlads {

// out (Tq, H, N); q (Tq, H, N); k, v: Tk rows of kv_stride floats, head g at
// offset g*N (KVH = H / group). Query i sits at position Tk - Tq + i and sees
// keys 0 .. Tk - Tq + i. Scale N^-1/2. Query head h uses KV head h / (H/KVH).
void attention_forward(float* out, const float* q, const float* k, const float* v, int Tq, int Tk,
                       int H, int KVH, int N, int64_t kv_stride);

// Per-position double-precision loop, the test oracle.
void attention_forward_naive(float* out, const float* q, const float* k, const float* v, int Tq,
                             int Tk, int H, int KVH, int N, int64_t kv_stride);

}  // namespace radlads
