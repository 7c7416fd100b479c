// The model FLOPs of RADLADS steps 1 and 2 per token (bench_train.cpp on the
// CPU, bench_gpu_train.cpp on a GPU): what a step must compute, not what our
// kernels happen to do, so that the figures compare with other trainers'.
#pragma once

#include <string>

#include "models/model.h"

namespace radlads::bench {

// Matmul weights a token meets (2 FLOPs each per forward): the attention
// projections, the MLP and (when with_head) the vocabulary head.
inline double attn_weights(const TeacherConfig& c) {
  const double C = c.n_embd, A = double(c.n_head) * c.head_dim, KD = double(c.n_head_kv) * c.head_dim;
  return C * A + 2 * C * KD + A * C;
}
inline double mlp_weights(const TeacherConfig& c) { return 3.0 * c.n_embd * c.n_ff; }
// Attention's T² part per token (QKᵀ and PV, causal half), per layer.
inline double softmax_flops_per_token(const TeacherConfig& c, int T) {
  return 2.0 * 2.0 * c.n_head * c.head_dim * (T + 1) / 2.0;
}
// LoRA weights of a student time mix (reads the tensors: ranks vary).
inline double lora_weights(const Model& s) {
  double n = 0;
  for (auto& [name, t] : s.weights)
    if (name.rfind("model.layers.0.self_attn.", 0) == 0 && t.shape.size() == 2 &&
        name.find("_proj") == std::string::npos)
      n += double(t.numel());
  return n;
}
// WKV per token per layer: state update and readout, ~6·H·N² FLOPs (v7 DPLR; v6 ~4).
inline double wkv_flops(const TeacherConfig& c) { return 6.0 * c.n_head * double(c.head_dim) * c.head_dim; }

struct StepFlops {
  double step1, step2;  // per token
};
inline StepFlops step_flops(const TeacherConfig& c, const Model& student, int T) {
  const double L = c.n_layer, head = double(c.n_embd) * c.n_vocab;
  const double teacher_body = L * (2 * (attn_weights(c) + mlp_weights(c)) + softmax_flops_per_token(c, T));
  const double mix_fwd = 2 * (attn_weights(c) + lora_weights(student)) + wkv_flops(c);
  // Step 1: teacher forward without head; each time mix forward + backward (≈ 3× forward).
  // Step 2: teacher forward with head; student forward + backward of everything.
  return {teacher_body + L * 3 * mix_fwd,
          teacher_body + 2 * head + 3 * (L * (mix_fwd + 2 * mlp_weights(c)) + 2 * head)};
}

}  // namespace radlads::bench
