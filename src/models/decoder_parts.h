// The pieces every decoder here shares (teacher and students alike): token
// embedding, the SwiGLU MLP block, the final norm + lm_head, residual adds.
#pragma once

#include <cstdint>
#include <vector>

#include "models/model.h"

namespace radlads {

struct MlpWeights {
  const float *post_norm, *gate, *up, *down;
};
MlpWeights mlp_weights(const Model& m, int l);

struct MlpScratch {
  std::vector<float> xn, gate, up, y;
};

// x (M,C) += down(silu(gate(m)) * up(m)), m = RMSNorm(x) * post_attention_layernorm.
void mlp_block_forward(float* x, const MlpWeights& w, const TeacherConfig& c, int64_t M, MlpScratch& s);

// x (M,C) = table[tokens]; throws Error for an id outside the vocabulary.
void embed_forward(float* x, const float* table, const int32_t* tokens, int64_t M, int64_t C, int64_t V);

enum class LogitsMode { None, Last, All };
// logits = lm_head(RMSNorm(x) * norm): (B*T, V) for All, (B, V) (each sequence's
// last row) for Last. xn is (B*T, C) scratch.
void head_forward(float* logits, std::vector<float>& xn, const float* x, const float* norm, const float* head,
                  const TeacherConfig& c, int B, int T, LogitsMode mode);

// x += y over n floats (the residual stream).
void add_inplace(float* x, const float* y, int64_t n);

}  // namespace radlads
