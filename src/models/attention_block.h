// The teacher's attention block as one reusable piece: the teacher runs it in
// every layer, a hybrid student in the layers that keep softmax attention.
#pragma once

#include <cstdint>
#include <vector>

#include "models/teacher_config.h"
#include "ops/rope.h"

namespace radlads {

// Keys and values of one sequence: per cached layer (n_ctx, KVH*N), RoPE applied.
struct KVCache {
  int n_ctx = 0;
  int n_past = 0;
  int n_layers = 0;
  std::vector<float> k, v;  // (n_layers, n_ctx, KVH*N)

  KVCache(const TeacherConfig& c, int n_ctx, int n_layers);
  KVCache(const TeacherConfig& c, int n_ctx) : KVCache(c, n_ctx, c.n_layer) {}
  size_t bytes() const { return (k.size() + v.size()) * sizeof(float); }
};

struct AttentionWeights {
  const float *q, *q_b, *k, *k_b, *v, *v_b, *o;  // biases may be null
};

struct AttentionScratch {
  std::vector<float> q, k, v, att;
};

// y (M,C) = o_proj(attn(rope(q_proj(xn)), rope(k_proj(xn)), v_proj(xn))) for B
// sequences of T new tokens (M = B*T) at positions pos (M); keys and values are
// appended to slot `slot` of each caches[b] at caches[b].n_past (which the
// caller advances afterwards).
void attention_block_forward(float* y, const float* xn, const AttentionWeights& w, const TeacherConfig& c,
                             int B, int T, const int32_t* pos, KVCache* caches, int slot,
                             const RopeTable& rope, AttentionScratch& s);

}  // namespace radlads
