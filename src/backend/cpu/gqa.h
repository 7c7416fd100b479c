// Grouped-query heads: expand KVH key/value heads to H query heads (head h
// reads KV head h / (H/KVH), as HF repeat_kv), and the backward: sum the
// gradients of a group back onto its KV head.
#pragma once

#include <cstdint>

namespace radlads {

// out (M, H, N); inp (M, KVH, N).
void gqa_expand(float* out, const float* inp, int64_t M, int H, int KVH, int N);
// d_inp (M, KVH, N) written; d_out (M, H, N).
void gqa_reduce(float* d_inp, const float* d_out, int64_t M, int H, int KVH, int N);

}  // namespace radlads
