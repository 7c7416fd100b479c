// The pieces every decoder here shares (teacher and students alike): token
// embedding, the SwiGLU MLP block, the final norm + lm_head, residual adds.
#pragma once

#include <cstdint>
#include <span>

#include "backend/backend.h"
#include "backend/workspace.h"
#include "models/model.h"

namespace radlads {

struct MlpWeights {
  const float *post_norm, *gate, *up, *down;
};
MlpWeights mlp_weights(const Model& m, int l);

// The MLP's activations, taken from the caller's workspace; kept per layer
// when training (they are its backward cache).
struct MlpScratch {
  std::span<float> rstd, xn, gate, up, act, y;
};

// x (M,C) += down(silu(gate(m)) * up(m)), m = RMSNorm(x) * post_attention_layernorm.
void mlp_block_forward(const Backend& be, Workspace& ws, float* x, const MlpWeights& w, const TeacherConfig& c,
                       int64_t M, MlpScratch& s);

// Gradients of the MLP's weights (+=), each nullable (frozen).
struct MlpGrads {
  float *post_norm = nullptr, *gate = nullptr, *up = nullptr, *down = nullptr;
};
// Backward of mlp_block_forward: d_x (M,C) is the residual's gradient, to which
// the MLP's input gradient is added. x_in: the block's input (before the add);
// s: the forward's scratch for that input.
// Its scratch comes from ws and is released before it returns.
void mlp_block_backward(const Backend& be, Workspace& ws, float* d_x, const MlpGrads& g, const MlpWeights& w, const TeacherConfig& c,
                        const float* x_in, int64_t M, const MlpScratch& s);

// Hidden: no logits; the (B*T, C) final normed rows are kept by the model for
// a head run over row blocks (Teacher::head_rows).
enum class LogitsMode { None, Last, All, Hidden };
// logits = lm_head(RMSNorm(x) * norm): (B*T, V) for All, (B, V) (each sequence's
// last row) for Last. Its (B*T, C) normed rows come from ws.
void head_forward(const Backend& be, Workspace& ws, float* logits, const float* x, const float* norm, const float* head,
                  const TeacherConfig& c, int B, int T, LogitsMode mode);

}  // namespace radlads
