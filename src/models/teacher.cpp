// Teacher forward, reading like DESIGN.md:
//   x = embed(tokens); per layer:
//   x += o_proj(attn(rope(q_proj(n)), rope(k_proj(n)), v_proj(n))), n = RMSNorm(x)·input_layernorm
//   x += down(silu(gate(m)) ⊙ up(m)),                              m = RMSNorm(x)·post_attention_layernorm
//   logits = lm_head(RMSNorm(x)·norm)
#include "models/teacher.h"

#include <algorithm>

#include "core/error.h"
#include "models/weight_names.h"

namespace radlads {

AttentionWeights teacher_attention_weights(const Model& m, int l) {
  auto P = [&](const char* pat) { return m.w(layer_name(pat, l)).ptr(); };
  auto B = [&](const char* pat) -> const float* {
    const Tensor* t = m.find(layer_name(pat, l));
    return t ? t->ptr() : nullptr;
  };
  return {P("model.layers.{l}.self_attn.q_proj.weight"), B("model.layers.{l}.self_attn.q_proj.bias"),
          P("model.layers.{l}.self_attn.k_proj.weight"), B("model.layers.{l}.self_attn.k_proj.bias"),
          P("model.layers.{l}.self_attn.v_proj.weight"), B("model.layers.{l}.self_attn.v_proj.bias"),
          P("model.layers.{l}.self_attn.o_proj.weight")};
}

const char* teacher_gemm_name(TeacherGemm g) {
  return g == TeacherGemm::BF16 ? "bf16" : g == TeacherGemm::Stored ? "stored" : "f32";
}

TeacherGemm teacher_gemm_from_name(const std::string& s, const Backend& be) {
  if (s == "f32") return TeacherGemm::F32;
  if (s == "bf16") return TeacherGemm::BF16;
  if (s == "stored") return TeacherGemm::Stored;
  if (s == "auto") return be.has_bf16_gemm() ? TeacherGemm::BF16 : TeacherGemm::F32;
  fail("unknown teacher GEMM precision '{}' (auto, f32, bf16, stored)", s);
}

Teacher::Teacher(const Backend& be, const Model& m, TeacherGemm gemm, bool quantize_inputs) : be_(&be), c_(m.cfg), rope_(m.cfg.head_dim, m.cfg.rope_theta), pos_dev_(be), ws_(be), hidden_(be) {
  for (int l = 0; l < c_.n_layer; l++) {
    in_norm_.push_back(m.w(layer_name("model.layers.{l}.input_layernorm.weight", l)).ptr());
    attn_.push_back(teacher_attention_weights(m, l));
    mlp_.push_back(mlp_weights(m, l));
  }
  embed_ = m.w("model.embed_tokens.weight").ptr();
  norm_ = m.w("model.norm.weight").ptr();
  head_ = c_.tie_embeddings ? embed_ : m.w("lm_head.weight").ptr();
  if (!m.stored.empty()) {  // held as stored (hold_teacher_stored): their fp32 values are gone
    frozen_ = be.frozen_weights(WeightFormat::F32);
    for (const auto& [name, w] : m.stored) frozen_->add_stored(m.w(name).ptr(), w.rows, w.cols, w.type, w.bytes.data(), quantize_inputs);
    be_ = &frozen_->backend();
  } else if (gemm == TeacherGemm::BF16) {
    frozen_ = be.frozen_weights(WeightFormat::BF16);
    CHECK(frozen_, "the {} backend has no bf16 GEMM", be.name());
    const int64_t C = c_.n_embd, QD = int64_t(c_.n_head) * c_.head_dim, KD = int64_t(c_.n_head_kv) * c_.head_dim;
    for (int l = 0; l < c_.n_layer; l++) {
      const AttentionWeights& a = attn_[size_t(l)];
      const MlpWeights& f = mlp_[size_t(l)];
      frozen_->add(a.q, QD, C), frozen_->add(a.k, KD, C), frozen_->add(a.v, KD, C), frozen_->add(a.o, C, QD);
      frozen_->add(f.gate, c_.n_ff, C), frozen_->add(f.up, c_.n_ff, C), frozen_->add(f.down, C, c_.n_ff);
    }
    frozen_->add(head_, c_.n_vocab, C);
    be_ = &frozen_->backend();  // every op as be's, the frozen weights' GEMMs in bf16
  }
}

void Teacher::forward(const int32_t* tokens, int B, int T, KVCache* caches, float* logits, Logits mode) {
  const int64_t M = int64_t(B) * T, C = c_.n_embd;
  const Backend& be = *be_;
  ws_.reset();
  pos_.resize(size_t(M));
  const std::span<float> x = ws_.take(M * C), xn = ws_.take(M * C), y = ws_.take(M * C);
  int max_pos = 0;
  for (int b = 0; b < B; b++) {
    CHECK(caches[b].n_past + T <= caches[b].n_ctx, "KV cache full: {} + {} > {}", caches[b].n_past, T,
          caches[b].n_ctx);
    for (int t = 0; t < T; t++) pos_[size_t(b) * T + t] = caches[b].n_past + t;
    max_pos = std::max(max_pos, caches[b].n_past + T);
  }
  rope_.ensure(max_pos);
  const int32_t* pos = pos_dev_.upload(pos_);
  be.embedding_forward(x.data(), embed_, tokens, M, C, c_.n_vocab);
  for (int l = 0; l < c_.n_layer; l++) {
    const Workspace::Mark layer_mark = ws_.mark();  // the blocks' scratch: this layer only
    be.rmsnorm_forward(xn.data(), nullptr, x.data(), in_norm_[size_t(l)], M, C, float(c_.rms_eps));
    AttentionScratch attn;
    attention_block_forward(be, ws_, y.data(), xn.data(), attn_[size_t(l)], c_, B, T, pos, caches, l, rope_,
                            attn);
    if (layer_hook) layer_hook(l, xn.data(), y.data());
    be.add_inplace(x.data(), y.data(), M * C);
    MlpScratch mlp;
    mlp_block_forward(be, ws_, x.data(), mlp_[size_t(l)], c_, M, mlp);
    ws_.release(layer_mark);
  }
  for (int b = 0; b < B; b++) caches[b].n_past += T;
  hidden_rows_ = 0;
  if (mode == Logits::Hidden) {
    if (hidden_.size() < size_t(M * C)) hidden_.ensure(size_t(M * C));
    be.rmsnorm_forward(hidden_.data(), nullptr, x.data(), norm_, M, C, float(c_.rms_eps));
    hidden_rows_ = M;
  }
  head_forward(be, ws_, logits, x.data(), norm_, head_, c_, B, T, mode);
  ws_.settle();  // the pass is over
}

void Teacher::head_rows(float* logits, int64_t r0, int64_t n) const {
  CHECK(r0 >= 0 && n >= 0 && r0 + n <= hidden_rows_, "head_rows: rows {}+{} outside the last Hidden forward", r0, n);
  const int64_t C = c_.n_embd;
  be_->matmul_forward(logits, hidden_.data() + r0 * C, head_, nullptr, n, C, c_.n_vocab);
}

}  // namespace radlads
