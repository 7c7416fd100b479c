// The teacher: a Llama / Qwen2 / Mistral-style decoder (DESIGN.md, Teacher),
// fp32 compute, batched prefill and KV-cache decode through one forward.
#pragma once

#include <cstdint>
#include <vector>

#include "models/model.h"
#include "ops/rope.h"

namespace radlads {

// Keys and values of one sequence: per layer (n_ctx, KVH*N), RoPE applied.
struct KVCache {
  int n_ctx = 0;
  int n_past = 0;
  std::vector<float> k, v;  // (L, n_ctx, KVH*N)

  KVCache(const TeacherConfig& c, int n_ctx);
  size_t bytes() const { return (k.size() + v.size()) * sizeof(float); }
};

// Per-layer weights, views into Model::weights.
struct TeacherLayer {
  const float *in_norm, *q, *q_b, *k, *k_b, *v, *v_b, *o, *post_norm, *gate, *up, *down;
};

class Teacher {
 public:
  explicit Teacher(const Model& m);  // the Model must outlive the Teacher
  const TeacherConfig& cfg() const { return c_; }

  enum class Logits { None, Last, All };
  // tokens (B,T): T new tokens for each of B sequences, appended to caches[b]
  // at positions caches[b].n_past onwards (each cache needs room for T more).
  // logits: (B,T,V) for All, (B,V) for Last, untouched for None.
  void forward(const int32_t* tokens, int B, int T, KVCache* caches, float* logits, Logits mode);

  // Final hidden state (B*T, C) after the last forward, before the final norm.
  const std::vector<float>& residual() const { return x_; }

 private:
  void ensure_scratch(int64_t M);
  void attention_block(const TeacherLayer& w, int l, int B, int T, KVCache* caches);
  void mlp_block(const TeacherLayer& w, int64_t M);

  const Model& m_;
  TeacherConfig c_;
  std::vector<TeacherLayer> layers_;
  const float *embed_, *norm_, *head_;
  RopeTable rope_;
  std::vector<int32_t> pos_;
  std::vector<float> x_, xn_, q_, k_, v_, att_, tmp_, gate_, up_;
};

}  // namespace radlads
