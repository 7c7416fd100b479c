// Teacher forward, reading like DESIGN.md:
//   x = embed(tokens); per layer:
//   x += o_proj(attn(rope(q_proj(n)), rope(k_proj(n)), v_proj(n))), n = RMSNorm(x)·input_layernorm
//   x += down(silu(gate(m)) ⊙ up(m)),                              m = RMSNorm(x)·post_attention_layernorm
//   logits = lm_head(RMSNorm(x)·norm)
#include "models/teacher.h"

#include <algorithm>

#include "core/error.h"
#include "models/weight_names.h"
#include "ops/rmsnorm.h"

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

const char* teacher_gemm_name(TeacherGemm g) { return g == TeacherGemm::BF16 ? "bf16" : "f32"; }

TeacherGemm teacher_gemm_from_name(const std::string& s) {
  if (s == "f32") return TeacherGemm::F32;
  if (s == "bf16") return TeacherGemm::BF16;
  if (s == "auto") return bf16_gemm_available() ? TeacherGemm::BF16 : TeacherGemm::F32;
  fail("unknown teacher GEMM precision '{}' (auto, f32, bf16)", s);
}

Teacher::Teacher(const Model& m, TeacherGemm gemm) : c_(m.cfg), rope_(m.cfg.head_dim, m.cfg.rope_theta) {
  for (int l = 0; l < c_.n_layer; l++) {
    in_norm_.push_back(m.w(layer_name("model.layers.{l}.input_layernorm.weight", l)).ptr());
    attn_.push_back(teacher_attention_weights(m, l));
    mlp_.push_back(mlp_weights(m, l));
  }
  embed_ = m.w("model.embed_tokens.weight").ptr();
  norm_ = m.w("model.norm.weight").ptr();
  head_ = c_.tie_embeddings ? embed_ : m.w("lm_head.weight").ptr();
  if (gemm == TeacherGemm::BF16) {
    bf16_ = std::make_unique<Bf16WeightSet>();
    const int64_t C = c_.n_embd, QD = int64_t(c_.n_head) * c_.head_dim, KD = int64_t(c_.n_head_kv) * c_.head_dim;
    for (int l = 0; l < c_.n_layer; l++) {
      const AttentionWeights& a = attn_[size_t(l)];
      const MlpWeights& f = mlp_[size_t(l)];
      bf16_->add(a.q, QD, C), bf16_->add(a.k, KD, C), bf16_->add(a.v, KD, C), bf16_->add(a.o, C, QD);
      bf16_->add(f.gate, c_.n_ff, C), bf16_->add(f.up, c_.n_ff, C), bf16_->add(f.down, C, c_.n_ff);
    }
    bf16_->add(head_, c_.n_vocab, C);
  }
}

void Teacher::forward(const int32_t* tokens, int B, int T, KVCache* caches, float* logits, Logits mode) {
  const int64_t M = int64_t(B) * T, C = c_.n_embd;
  const Bf16Scope bf16_scope(bf16_.get());  // null: every layer in fp32
  pos_.resize(size_t(M));
  x_.resize(size_t(M * C));
  xn_.resize(size_t(M * C));
  y_.resize(size_t(M * C));
  int max_pos = 0;
  for (int b = 0; b < B; b++) {
    CHECK(caches[b].n_past + T <= caches[b].n_ctx, "KV cache full: {} + {} > {}", caches[b].n_past, T,
          caches[b].n_ctx);
    for (int t = 0; t < T; t++) pos_[size_t(b) * T + t] = caches[b].n_past + t;
    max_pos = std::max(max_pos, caches[b].n_past + T);
  }
  rope_.ensure(max_pos);
  embed_forward(x_.data(), embed_, tokens, M, C, c_.n_vocab);
  for (int l = 0; l < c_.n_layer; l++) {
    rmsnorm_forward(xn_.data(), nullptr, x_.data(), in_norm_[size_t(l)], M, C, float(c_.rms_eps));
    attention_block_forward(y_.data(), xn_.data(), attn_[size_t(l)], c_, B, T, pos_.data(), caches, l, rope_,
                            attn_scratch_);
    if (layer_hook) layer_hook(l, xn_.data(), y_.data());
    add_inplace(x_.data(), y_.data(), M * C);
    mlp_block_forward(x_.data(), mlp_[size_t(l)], c_, M, mlp_scratch_);
  }
  for (int b = 0; b < B; b++) caches[b].n_past += T;
  head_forward(logits, xn_, x_.data(), norm_, head_, c_, B, T, mode);
}

}  // namespace radlads
