// Student forward: embed; per layer x += mix(RMSNorm(x)), x += MLP; head.
#include "models/student.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "models/teacher.h"
#include "models/weight_names.h"
#include "ops/matmul.h"
#include "ops/rmsnorm.h"

namespace radlads {

size_t StudentState::bytes() const {
  return (wkv.size() + shift.size()) * sizeof(float) + (kv ? kv->bytes() : 0);
}

Student::Student(const Model& m) : m_(m), c_(m.cfg), o_(m.student), rope_(m.cfg.head_dim, m.cfg.rope_theta) {
  CHECK(o_.is_student(), "{} is not a student", m.path);
  const int L = c_.n_layer;
  v6_.resize(size_t(L));
  v7_.resize(size_t(L));
  attn_.resize(size_t(L));
  for (int l = 0; l < L; l++) {
    in_norm_.push_back(m.w(layer_name("model.layers.{l}.input_layernorm.weight", l)).ptr());
    layer_prefix_.push_back("model.layers." + std::to_string(l) + ".");
    mlp_.push_back(mlp_weights(m, l));
    if (o_.softmax_layer(l, L))
      attn_[size_t(l)] = teacher_attention_weights(m, l);
    else if (o_.arch == StudentArch::RWKV6)
      v6_[size_t(l)] = std::make_unique<Rwkv6TimeMix>(m, l);
    else
      v7_[size_t(l)] = std::make_unique<Rwkv7TimeMix>(m, l);
  }
  embed_ = m.w("model.embed_tokens.weight").ptr();
  norm_ = m.w("model.norm.weight").ptr();
  head_ = m.w("lm_head.weight").ptr();
}

Student::~Student() = default;

StudentState Student::new_state(int n_ctx) const {
  StudentState s;
  const size_t L = size_t(c_.n_layer), HNN = size_t(c_.n_head) * c_.head_dim * c_.head_dim;
  s.wkv.assign(L * HNN, 0.0f);
  s.shift.assign(L * size_t(c_.n_embd), 0.0f);
  if (o_.num_attention_layers > 0) s.kv = std::make_unique<KVCache>(c_, n_ctx, o_.num_attention_layers);
  return s;
}

void Student::forward(const int32_t* tokens, int B, int T, StudentState* states, float* logits,
                      LogitsMode mode) {
  run(tokens, B, T, states, logits, mode, false);
}

void Student::forward_train(const int32_t* tokens, int B, int T, float* logits) {
  tokens_.assign(tokens, tokens + int64_t(B) * T);
  train_B_ = B, train_T_ = T;
  run(tokens, B, T, nullptr, logits, LogitsMode::All, true);
}

void Student::run(const int32_t* tokens, int B, int T, StudentState* states, float* logits, LogitsMode mode,
                  bool save) {
  const int L = c_.n_layer;
  // Hybrid layers need KV caches even in a window forward; training (save)
  // runs them cache-free instead, since its windows start at position 0.
  std::vector<StudentState> fresh;
  if (!states && o_.num_attention_layers > 0 && !save) {
    for (int b = 0; b < B; b++) fresh.push_back(new_state(T));
    states = fresh.data();
  }
  const MixDims d(c_, B, T);
  const int64_t M = d.M, C = d.C, HNN = int64_t(d.H) * d.N * d.N;
  pos_.resize(size_t(M));
  x_.resize(size_t(M * C));
  xn_.resize(size_t(M * C));
  y_.resize(size_t(M * C));
  if (o_.arch == StudentArch::RWKV7) v_first_.resize(size_t(M * d.A));
  int max_pos = 0;
  for (int b = 0; b < B; b++) {
    const int past = states ? states[b].n_past : 0;
    for (int t = 0; t < T; t++) pos_[size_t(b) * T + t] = past + t;
    max_pos = std::max(max_pos, past + T);
  }
  rope_.ensure(max_pos);
  // Per-layer states of the B sequences, gathered contiguous for the kernels.
  wkv_.resize(size_t(B * HNN));
  shift_.resize(size_t(B * C));
  embed_forward(x_.data(), embed_, tokens, M, C, c_.n_vocab);
  std::vector<KVCache*>& caches = caches_;  // a member: keeps its capacity between calls
  caches.clear();
  if (save) acts_.resize(size_t(L));
  for (int l = 0; l < L; l++) {
    LayerActs* act = save ? &acts_[size_t(l)] : nullptr;
    float* xn = xn_.data();
    float* rstd = nullptr;
    if (act) {  // keep the layer's input, its norm and rstd
      act->x_in.assign(x_.begin(), x_.end());
      act->xn.resize(size_t(M * C));
      act->rstd.resize(size_t(M));
      xn = act->xn.data();
      rstd = act->rstd.data();
    }
    rmsnorm_forward(xn, rstd, x_.data(), in_norm_[size_t(l)], M, C, float(c_.rms_eps));
    if (o_.softmax_layer(l, L) && act) {
      attention_block_forward_train(y_.data(), act->attn, xn, attn_[size_t(l)], c_, B, T, pos_.data(), rope_);
    } else if (o_.softmax_layer(l, L)) {
      CHECK(states, "hybrid softmax layers need decode states");
      if (caches.empty())
        for (int b = 0; b < B; b++) {
          CHECK(states[b].kv && states[b].kv->n_past + T <= states[b].kv->n_ctx, "KV cache too small");
          caches.push_back(states[b].kv.get());
        }
      // attention_block_forward wants a contiguous array of caches: one sequence at a time.
      for (int b = 0; b < B; b++)
        attention_block_forward(y_.data() + int64_t(b) * T * C, xn + int64_t(b) * T * C,
                                attn_[size_t(l)], c_, 1, T, pos_.data() + int64_t(b) * T, caches[size_t(b)],
                                l - (L - o_.num_attention_layers), rope_, attn_scratch_);
    } else {
      TimeMixIO io;
      io.xn = xn;
      io.y = y_.data();
      io.pos = pos_.data();
      io.v_first = v_first_.empty() ? nullptr : v_first_.data();
      if (states) {
        for (int b = 0; b < B; b++) {
          std::memcpy(wkv_.data() + b * HNN, states[b].wkv.data() + l * HNN, sizeof(float) * size_t(HNN));
          std::memcpy(shift_.data() + b * C, states[b].shift.data() + l * C, sizeof(float) * size_t(C));
        }
        io.state = wkv_.data();
        io.shift = shift_.data();
      }
      if (v6_[size_t(l)]) v6_[size_t(l)]->forward(d, io, rope_);
      else v7_[size_t(l)]->forward(d, io, rope_);
      if (states)
        for (int b = 0; b < B; b++) {
          std::memcpy(states[b].wkv.data() + l * HNN, wkv_.data() + b * HNN, sizeof(float) * size_t(HNN));
          std::memcpy(states[b].shift.data() + l * C, shift_.data() + b * C, sizeof(float) * size_t(C));
        }
    }
    add_inplace(x_.data(), y_.data(), M * C);
    if (act) act->x_mid.assign(x_.begin(), x_.end());
    mlp_block_forward(x_.data(), mlp_[size_t(l)], c_, M, act ? act->mlp : mlp_scratch_);
  }
  if (states)
    for (int b = 0; b < B; b++) {
      states[b].n_past += T;
      if (states[b].kv) states[b].kv->n_past += T;
    }
  if (save) {  // the final norm with its cache, then the head
    x_final_ = x_;
    rstd_final_.resize(size_t(M));
    xn_final_.resize(size_t(M * C));
    rmsnorm_forward(xn_final_.data(), rstd_final_.data(), x_final_.data(), norm_, M, C, float(c_.rms_eps));
    matmul_forward(logits, xn_final_.data(), head_, nullptr, M, C, c_.n_vocab);
    return;
  }
  head_forward(logits, xn_, x_.data(), norm_, head_, c_, B, T, mode);
}

}  // namespace radlads
