// Teacher forward, reading like DESIGN.md:
//   x = embed(tokens); per layer:
//   x += o_proj(attn(rope(q_proj(n)), rope(k_proj(n)), v_proj(n))), n = RMSNorm(x)·input_layernorm
//   x += down(silu(gate(m)) ⊙ up(m)),                              m = RMSNorm(x)·post_attention_layernorm
//   logits = lm_head(RMSNorm(x)·norm)
#include "models/teacher.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "models/weight_names.h"
#include "ops/attention.h"
#include "ops/matmul.h"
#include "ops/rmsnorm.h"
#include "ops/swiglu.h"

namespace radlads {

KVCache::KVCache(const TeacherConfig& c, int n_ctx)
    : n_ctx(n_ctx),
      k(size_t(c.n_layer) * n_ctx * c.n_head_kv * c.head_dim),
      v(size_t(c.n_layer) * n_ctx * c.n_head_kv * c.head_dim) {}

Teacher::Teacher(const Model& m) : m_(m), c_(m.cfg), rope_(m.cfg.head_dim, m.cfg.rope_theta) {
  auto P = [&](const char* pat, int l) { return m.w(layer_name(pat, l)).ptr(); };
  auto B = [&](const char* pat, int l) -> const float* {
    const Tensor* t = m.find(layer_name(pat, l));
    return t ? t->ptr() : nullptr;
  };
  for (int l = 0; l < c_.n_layer; l++)
    layers_.push_back({P("model.layers.{l}.input_layernorm.weight", l),
                       P("model.layers.{l}.self_attn.q_proj.weight", l),
                       B("model.layers.{l}.self_attn.q_proj.bias", l),
                       P("model.layers.{l}.self_attn.k_proj.weight", l),
                       B("model.layers.{l}.self_attn.k_proj.bias", l),
                       P("model.layers.{l}.self_attn.v_proj.weight", l),
                       B("model.layers.{l}.self_attn.v_proj.bias", l),
                       P("model.layers.{l}.self_attn.o_proj.weight", l),
                       P("model.layers.{l}.post_attention_layernorm.weight", l),
                       P("model.layers.{l}.mlp.gate_proj.weight", l),
                       P("model.layers.{l}.mlp.up_proj.weight", l),
                       P("model.layers.{l}.mlp.down_proj.weight", l)});
  embed_ = m.w("model.embed_tokens.weight").ptr();
  norm_ = m.w("model.norm.weight").ptr();
  head_ = c_.tie_embeddings ? embed_ : m.w("lm_head.weight").ptr();
}

void Teacher::ensure_scratch(int64_t M) {
  const int64_t C = c_.n_embd, QD = int64_t(c_.n_head) * c_.head_dim,
                KD = int64_t(c_.n_head_kv) * c_.head_dim;
  if (int64_t(pos_.size()) >= M) return;
  pos_.resize(size_t(M));
  x_.resize(size_t(M * C));
  xn_.resize(size_t(M * C));
  tmp_.resize(size_t(M * C));
  q_.resize(size_t(M * QD));
  att_.resize(size_t(M * QD));
  k_.resize(size_t(M * KD));
  v_.resize(size_t(M * KD));
  gate_.resize(size_t(M * c_.n_ff));
  up_.resize(size_t(M * c_.n_ff));
}

void Teacher::attention_block(const TeacherLayer& w, int l, int B, int T, KVCache* caches) {
  const int64_t M = int64_t(B) * T, C = c_.n_embd;
  const int H = c_.n_head, KVH = c_.n_head_kv, N = c_.head_dim;
  const int64_t QD = int64_t(H) * N, KD = int64_t(KVH) * N;
  rmsnorm_forward(xn_.data(), nullptr, x_.data(), w.in_norm, M, C, float(c_.rms_eps));
  matmul_forward(q_.data(), xn_.data(), w.q, w.q_b, M, C, QD);
  matmul_forward(k_.data(), xn_.data(), w.k, w.k_b, M, C, KD);
  matmul_forward(v_.data(), xn_.data(), w.v, w.v_b, M, C, KD);
  rope_forward(q_.data(), pos_.data(), M, H, rope_);
  rope_forward(k_.data(), pos_.data(), M, KVH, rope_);
  for (int b = 0; b < B; b++) {
    KVCache& kv = caches[b];
    const size_t layer_off = size_t(l) * kv.n_ctx * KD;
    float* kc = kv.k.data() + layer_off;
    float* vc = kv.v.data() + layer_off;
    std::memcpy(kc + int64_t(kv.n_past) * KD, k_.data() + int64_t(b) * T * KD, sizeof(float) * T * KD);
    std::memcpy(vc + int64_t(kv.n_past) * KD, v_.data() + int64_t(b) * T * KD, sizeof(float) * T * KD);
    attention_forward(att_.data() + int64_t(b) * T * QD, q_.data() + int64_t(b) * T * QD, kc, vc, T,
                      kv.n_past + T, H, KVH, N, KD);
  }
  matmul_forward(tmp_.data(), att_.data(), w.o, nullptr, M, QD, C);
  float* x = x_.data();
  const float* t = tmp_.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * C; i++) x[i] += t[i];
}

void Teacher::mlp_block(const TeacherLayer& w, int64_t M) {
  const int64_t C = c_.n_embd, F = c_.n_ff;
  rmsnorm_forward(xn_.data(), nullptr, x_.data(), w.post_norm, M, C, float(c_.rms_eps));
  matmul_forward(gate_.data(), xn_.data(), w.gate, nullptr, M, C, F);
  matmul_forward(up_.data(), xn_.data(), w.up, nullptr, M, C, F);
  swiglu_forward(gate_.data(), gate_.data(), up_.data(), M * F);
  matmul_forward(tmp_.data(), gate_.data(), w.down, nullptr, M, F, C);
  float* x = x_.data();
  const float* t = tmp_.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * C; i++) x[i] += t[i];
}

void Teacher::forward(const int32_t* tokens, int B, int T, KVCache* caches, float* logits,
                      Logits mode) {
  const int64_t M = int64_t(B) * T, C = c_.n_embd, V = c_.n_vocab;
  ensure_scratch(M);
  int max_pos = 0;
  for (int b = 0; b < B; b++) {
    CHECK(caches[b].n_past + T <= caches[b].n_ctx, "KV cache full: {} + {} > {}", caches[b].n_past,
          T, caches[b].n_ctx);
    for (int t = 0; t < T; t++) pos_[size_t(b) * T + t] = caches[b].n_past + t;
    max_pos = std::max(max_pos, caches[b].n_past + T);
  }
  rope_.ensure(max_pos);
  for (int64_t i = 0; i < M; i++) {
    const int32_t tok = tokens[i];
    if (tok < 0 || tok >= V) fail("token id {} is outside the vocabulary (0..{})", tok, V - 1);
    std::memcpy(x_.data() + i * C, embed_ + int64_t(tok) * C, sizeof(float) * C);
  }
  for (int l = 0; l < c_.n_layer; l++) {
    attention_block(layers_[size_t(l)], l, B, T, caches);
    mlp_block(layers_[size_t(l)], M);
  }
  for (int b = 0; b < B; b++) caches[b].n_past += T;
  if (mode == Logits::None) return;
  rmsnorm_forward(xn_.data(), nullptr, x_.data(), norm_, M, C, float(c_.rms_eps));
  if (mode == Logits::All) {
    matmul_forward(logits, xn_.data(), head_, nullptr, M, C, V);
    return;
  }
  for (int b = 0; b < B; b++)  // last row of each sequence
    std::memcpy(tmp_.data() + int64_t(b) * C, xn_.data() + (int64_t(b) * T + T - 1) * C, sizeof(float) * C);
  matmul_forward(logits, tmp_.data(), head_, nullptr, B, C, V);
}

}  // namespace radlads
