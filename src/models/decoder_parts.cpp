// Shared decoder pieces.
#include "models/decoder_parts.h"

#include <cstring>

#include "core/error.h"
#include "models/weight_names.h"
#include "ops/matmul.h"
#include "ops/rmsnorm.h"
#include "ops/swiglu.h"

namespace radlads {

MlpWeights mlp_weights(const Model& m, int l) {
  auto P = [&](const char* pat) { return m.w(layer_name(pat, l)).ptr(); };
  return {P("model.layers.{l}.post_attention_layernorm.weight"), P("model.layers.{l}.mlp.gate_proj.weight"),
          P("model.layers.{l}.mlp.up_proj.weight"), P("model.layers.{l}.mlp.down_proj.weight")};
}

void add_inplace(float* x, const float* y, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) x[i] += y[i];
}

void mlp_block_forward(float* x, const MlpWeights& w, const TeacherConfig& c, int64_t M, MlpScratch& s) {
  const int64_t C = c.n_embd, F = c.n_ff;
  s.rstd.resize(size_t(M));
  s.xn.resize(size_t(M * C));
  s.y.resize(size_t(M * C));
  s.gate.resize(size_t(M * F));
  s.up.resize(size_t(M * F));
  s.act.resize(size_t(M * F));
  rmsnorm_forward(s.xn.data(), s.rstd.data(), x, w.post_norm, M, C, float(c.rms_eps));
  matmul_forward(s.gate.data(), s.xn.data(), w.gate, nullptr, M, C, F);
  matmul_forward(s.up.data(), s.xn.data(), w.up, nullptr, M, C, F);
  swiglu_forward(s.act.data(), s.gate.data(), s.up.data(), M * F);
  matmul_forward(s.y.data(), s.act.data(), w.down, nullptr, M, F, C);
  add_inplace(x, s.y.data(), M * C);
}

void mlp_block_backward(float* d_x, const MlpGrads& g, const MlpWeights& w, const TeacherConfig& c,
                        const float* x_in, int64_t M, const MlpScratch& s) {
  const int64_t C = c.n_embd, F = c.n_ff;
  // Per thread and kept: sized by the first backward, reused by the later ones.
  thread_local std::vector<float> d_act, d_gate, d_up, d_n, d_n2;
  d_act.resize(size_t(M * F));
  d_gate.resize(size_t(M * F));
  d_up.resize(size_t(M * F));
  d_n.resize(size_t(M * C));
  d_n2.resize(size_t(M * C));
  matmul_backward(d_act.data(), g.down, nullptr, d_x, s.act.data(), w.down, M, F, C);
  swiglu_backward(d_gate.data(), d_up.data(), d_act.data(), s.gate.data(), s.up.data(), M * F);
  matmul_backward(d_n.data(), g.gate, nullptr, d_gate.data(), s.xn.data(), w.gate, M, C, F);
  matmul_backward(d_n2.data(), g.up, nullptr, d_up.data(), s.xn.data(), w.up, M, C, F);
  add_inplace(d_n.data(), d_n2.data(), M * C);
  rmsnorm_backward(d_n2.data(), g.post_norm, d_n.data(), x_in, w.post_norm, s.rstd.data(), M, C);
  add_inplace(d_x, d_n2.data(), M * C);
}

void embed_forward(float* x, const float* table, const int32_t* tokens, int64_t M, int64_t C, int64_t V) {
  for (int64_t i = 0; i < M; i++) {
    const int32_t tok = tokens[i];
    if (tok < 0 || tok >= V) fail("token id {} is outside the vocabulary (0..{})", tok, V - 1);
    std::memcpy(x + i * C, table + int64_t(tok) * C, sizeof(float) * size_t(C));
  }
}

void head_forward(float* logits, std::vector<float>& xn, const float* x, const float* norm, const float* head,
                  const TeacherConfig& c, int B, int T, LogitsMode mode) {
  if (mode == LogitsMode::None) return;
  const int64_t C = c.n_embd, V = c.n_vocab, M = int64_t(B) * T;
  xn.resize(size_t(M * C));
  if (mode == LogitsMode::All) {
    rmsnorm_forward(xn.data(), nullptr, x, norm, M, C, float(c.rms_eps));
    matmul_forward(logits, xn.data(), head, nullptr, M, C, V);
    return;
  }
  for (int b = 0; b < B; b++)  // only each sequence's last row is needed
    rmsnorm_forward(xn.data() + int64_t(b) * C, nullptr, x + (int64_t(b) * T + T - 1) * C, norm, 1, C,
                    float(c.rms_eps));
  matmul_forward(logits, xn.data(), head, nullptr, B, C, V);
}

}  // namespace radlads
