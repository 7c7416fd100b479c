// The teacher's attention block as one reusable piece: the teacher runs it in
// every layer, a hybrid student in the layers that keep softmax attention
// (and trains them: the cache-free training forward and its backward).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/byte_reader.h"
#include "models/teacher_config.h"
#include "backend/backend.h"
#include "backend/device_array.h"
#include "backend/workspace.h"
#include "backend/rope_table.h"

namespace radlads {

// Keys and values of one sequence: per cached layer (n_ctx, KVH*N), RoPE applied.
struct KVCache {
  int n_ctx = 0;
  int n_past = 0;
  int n_layers = 0;
  DeviceArray<float> k, v;  // (n_layers, n_ctx, KVH*N), zeroed, in be's memory

  KVCache(const TeacherConfig& c, int n_ctx, int n_layers, const Backend& be = cpu_backend());
  KVCache(const TeacherConfig& c, int n_ctx) : KVCache(c, n_ctx, c.n_layer) {}
  size_t bytes() const { return (k.size() + v.size()) * sizeof(float); }
  // The filled rows (n_past of each layer) appended to out, and read back
  // into a cache of the same model with room for them (throws Error, naming
  // r's file, when they do not fit).
  void save(std::string& out) const;
  void load(ByteReader& r);
};

struct AttentionWeights {
  const float *q, *q_b, *k, *k_b, *v, *v_b, *o;  // biases may be null
};

struct AttentionScratch {
  std::span<float> q, k, v, att;
};

// y (M,C) = o_proj(attn(rope(q_proj(xn)), rope(k_proj(xn)), v_proj(xn))) for B
// sequences of T new tokens (M = B*T) at positions pos (M); keys and values are
// appended to slot `slot` of each caches[b] at caches[b].n_past (which the
// caller advances afterwards). s's buffers are taken from ws.
void attention_block_forward(const Backend& be, Workspace& ws, float* y, const float* xn, const AttentionWeights& w, const TeacherConfig& c,
                             int B, int T, const int32_t* pos, KVCache* caches, int slot,
                             const RopeTable& rope, AttentionScratch& s);

// Training forward of the block over B windows of T tokens, each window its own
// causal sequence (no KV cache: windows start fresh). pos (M) feeds RoPE. The
// activations its backward needs stay in a; the probabilities are not kept
// (attention_backward recomputes them), so memory stays O(M) per layer.
struct AttentionActs {
  std::span<float> q, k, v;  // (M,H*N), (M,KVH*N), (M,KVH*N): q and k after RoPE
  std::span<float> att;      // (M,H*N) attention output, o_proj's input
};
void attention_block_forward_train(const Backend& be, Workspace& ws, float* y, AttentionActs& a, const float* xn, const AttentionWeights& w,
                                   const TeacherConfig& c, int B, int T, const int32_t* pos, const RopeTable& rope);

// Parameter gradients (+=), each nullable (frozen; a bias also when absent).
struct AttentionGrads {
  float *q = nullptr, *q_b = nullptr, *k = nullptr, *k_b = nullptr, *v = nullptr, *v_b = nullptr, *o = nullptr;
};
// Backward of attention_block_forward_train: d_y (M,C) -> d_xn (M,C) written;
// xn, pos and a as in that forward; its scratch comes from ws and is
// released before it returns.
void attention_block_backward(const Backend& be, Workspace& ws, float* d_xn, const AttentionGrads& g, const float* d_y, const AttentionActs& a,
                              const float* xn, const AttentionWeights& w, const TeacherConfig& c, int B, int T,
                              const int32_t* pos, const RopeTable& rope);

}  // namespace radlads
