// Shared decoder pieces.
#include "models/decoder_parts.h"

#include "core/error.h"
#include "models/weight_names.h"

namespace radlads {

MlpWeights mlp_weights(const Model& m, int l) {
  auto P = [&](const char* pat) { return m.w(layer_name(pat, l)).ptr(); };
  return {P("model.layers.{l}.post_attention_layernorm.weight"), P("model.layers.{l}.mlp.gate_proj.weight"),
          P("model.layers.{l}.mlp.up_proj.weight"), P("model.layers.{l}.mlp.down_proj.weight")};
}

void mlp_block_forward(const Backend& be, Workspace& ws, float* x, const MlpWeights& w, const TeacherConfig& c,
                       int64_t M, MlpScratch& s) {
  const int64_t C = c.n_embd, F = c.n_ff;
  s.rstd = ws.take(M);
  s.xn = ws.take(M * C);
  s.y = ws.take(M * C);
  s.gate = ws.take(M * F);
  s.up = ws.take(M * F);
  s.act = ws.take(M * F);
  be.rmsnorm_forward(s.xn.data(), s.rstd.data(), x, w.post_norm, M, C, float(c.rms_eps));
  be.matmul_forward(s.gate.data(), s.xn.data(), w.gate, nullptr, M, C, F);
  be.matmul_forward(s.up.data(), s.xn.data(), w.up, nullptr, M, C, F);
  be.swiglu_forward(s.act.data(), s.gate.data(), s.up.data(), M * F);
  be.matmul_forward(s.y.data(), s.act.data(), w.down, nullptr, M, F, C);
  be.add_inplace(x, s.y.data(), M * C);
}

void mlp_block_backward(const Backend& be, Workspace& ws, float* d_x, const MlpGrads& g, const MlpWeights& w,
                        const TeacherConfig& c, const float* x_in, int64_t M, const MlpScratch& s) {
  const int64_t C = c.n_embd, F = c.n_ff;
  const Workspace::Mark mark = ws.mark();  // the scratch below lives for this call only
  const std::span<float> d_act = ws.take(M * F), d_gate = ws.take(M * F), d_up = ws.take(M * F);
  const std::span<float> d_n = ws.take(M * C), d_n2 = ws.take(M * C);
  be.matmul_backward(d_act.data(), g.down, nullptr, d_x, s.act.data(), w.down, M, F, C);
  be.swiglu_backward(d_gate.data(), d_up.data(), d_act.data(), s.gate.data(), s.up.data(), M * F);
  be.matmul_backward(d_n.data(), g.gate, nullptr, d_gate.data(), s.xn.data(), w.gate, M, C, F);
  be.matmul_backward(d_n2.data(), g.up, nullptr, d_up.data(), s.xn.data(), w.up, M, C, F);
  be.add_inplace(d_n.data(), d_n2.data(), M * C);
  be.rmsnorm_backward(d_n2.data(), g.post_norm, d_n.data(), x_in, w.post_norm, s.rstd.data(), M, C);
  be.add_inplace(d_x, d_n2.data(), M * C);
  ws.release(mark);
}

void head_forward(const Backend& be, Workspace& ws, float* logits, const float* x, const float* norm, const float* head,
                  const TeacherConfig& c, int B, int T, LogitsMode mode) {
  if (mode == LogitsMode::None || mode == LogitsMode::Hidden) return;
  const int64_t C = c.n_embd, V = c.n_vocab, M = int64_t(B) * T;
  const std::span<float> xn = ws.take(M * C);
  if (mode == LogitsMode::All) {
    be.rmsnorm_forward(xn.data(), nullptr, x, norm, M, C, float(c.rms_eps));
    be.matmul_forward(logits, xn.data(), head, nullptr, M, C, V);
    return;
  }
  for (int b = 0; b < B; b++)  // only each sequence's last row is needed
    be.rmsnorm_forward(xn.data() + int64_t(b) * C, nullptr, x + (int64_t(b) * T + T - 1) * C, norm, 1, C,
                    float(c.rms_eps));
  be.matmul_forward(logits, xn.data(), head, nullptr, B, C, V);
}

}  // namespace radlads
