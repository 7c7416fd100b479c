// Student forward: embed; per layer x += mix(RMSNorm(x)), x += MLP; head.
#include "models/student.h"

#include <algorithm>

#include "core/error.h"
#include "models/mixers/mixer_arch.h"
#include "models/teacher.h"
#include "models/weight_names.h"

namespace radlads {

size_t StudentState::bytes() const {
  return (wkv.size() + shift.size()) * sizeof(float) + (kv ? kv->bytes() : 0);
}

Student::Student(const Backend& be, const Model& m) : be_(be), ws_(be), m_(m), c_(m.cfg), o_(m.student), rope_(m.cfg.head_dim, m.cfg.rope_theta), pos_dev_(be),
      tokens_(be), bw_pos_dev_(be) {
  CHECK(o_.is_student(), "{} is not a student", m.path);
  const int L = c_.n_layer;
  const MixerArch& arch = mixer_arch(o_.arch);
  value_residual_ = arch.value_residual;
  state_floats_ = arch.state_floats(c_);
  shift_floats_ = arch.shift_floats(c_);
  for (int l = 0; l < L; l++) {
    in_norm_.push_back(m.w(layer_name("model.layers.{l}.input_layernorm.weight", l)).ptr());
    layer_prefix_.push_back("model.layers." + std::to_string(l) + ".");
    mlp_.push_back(mlp_weights(m, l));
    mix_.push_back(o_.softmax_layer(l, L) ? make_softmax_attention_mixer(be, ws_, m, l) : arch.make(be, ws_, m, l));
  }
  embed_ = m.w("model.embed_tokens.weight").ptr();
  norm_ = m.w("model.norm.weight").ptr();
  head_ = m.w("lm_head.weight").ptr();
}

Student::~Student() = default;

StudentState Student::new_state(int n_ctx) const {
  StudentState s;
  const size_t L = size_t(c_.n_layer);
  s.wkv.assign(L * size_t(state_floats_), 0.0f);
  s.shift.assign(L * size_t(shift_floats_), 0.0f);
  if (o_.num_attention_layers > 0) s.kv = std::make_unique<KVCache>(c_, n_ctx, o_.num_attention_layers, be_);
  return s;
}

void Student::forward(const int32_t* tokens, int B, int T, StudentState* states, float* logits,
                      LogitsMode mode) {
  run(tokens, B, T, states, logits, mode, false);
}

void Student::forward_train(const int32_t* tokens, int B, int T, float* logits) {
  tokens_.copy_from(tokens, size_t(B) * size_t(T));
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
  const int64_t M = d.M, C = d.C;
  ws_.reset();
  if (!save) train_B_ = 0;  // a training forward's activations are gone
  pos_.resize(size_t(M));
  x_ = ws_.take(M * C);
  xn_ = ws_.take(M * C);
  y_ = ws_.take(M * C);
  v_first_ = value_residual_ ? ws_.take(M * d.A) : std::span<float>();
  int max_pos = 0;
  for (int b = 0; b < B; b++) {
    const int past = states ? states[b].n_past : 0;
    for (int t = 0; t < T; t++) pos_[size_t(b) * T + t] = past + t;
    max_pos = std::max(max_pos, past + T);
  }
  rope_.ensure(max_pos);
  pos_dev_.upload(pos_);
  // Per-layer states of the B sequences, gathered contiguous for the kernels.
  wkv_ = ws_.take(B * state_floats_);
  shift_ = ws_.take(B * shift_floats_);
  be_.embedding_forward(x_.data(), embed_, tokens, M, C, c_.n_vocab);
  caches_.clear();
  if (save) acts_.resize(size_t(L));
  for (int l = 0; l < L; l++) {
    LayerActs* act = save ? &acts_[size_t(l)] : nullptr;
    if (act) {  // the layer's input: all the backward needs to rerun the layer
      act->x_in = ws_.take(M * C);
      be_.copy(act->x_in.data(), x_.data(), sizeof(float) * size_t(M * C));
    }
    // Decoding keeps nothing of a layer once its output is in x_, and neither
    // does a training forward with recompute: the next layer reuses the memory.
    const Workspace::Mark layer_mark = ws_.mark();
    layer_forward(l, d, states, act);
    if (!act || recompute_) ws_.release(layer_mark);
  }
  if (states)
    for (int b = 0; b < B; b++) {
      states[b].n_past += T;
      if (states[b].kv) states[b].kv->n_past += T;
    }
  if (save) {  // the final norm with its cache, then the head
    x_final_ = ws_.take(M * C);
    be_.copy(x_final_.data(), x_.data(), sizeof(float) * size_t(M * C));
    rstd_final_ = ws_.take(M);
    xn_final_ = ws_.take(M * C);
    be_.rmsnorm_forward(xn_final_.data(), rstd_final_.data(), x_final_.data(), norm_, M, C, float(c_.rms_eps));
    d_xn_final_ = ws_.take(M * C);  // filled by head_backward_rows
    if (logits) be_.matmul_forward(logits, xn_final_.data(), head_, nullptr, M, C, c_.n_vocab);
    return;
  }
  head_forward(be_, ws_, logits, x_.data(), norm_, head_, c_, B, T, mode);
  ws_.settle();  // the pass is over: nothing of it is read again
}

void Student::layer_forward(int l, const MixDims& d, StudentState* states, LayerActs* act) {
  const int L = c_.n_layer, B = d.B, T = d.T;
  const int64_t M = d.M, C = d.C;
  float* xn = xn_.data();
  float* rstd = nullptr;
  if (act) {  // keep the norm and rstd
    act->xn = ws_.take(M * C);
    act->rstd = ws_.take(M);
    xn = act->xn.data();
    rstd = act->rstd.data();
  }
  be_.rmsnorm_forward(xn, rstd, x_.data(), in_norm_[size_t(l)], M, C, float(c_.rms_eps));
  TimeMixIO io;
  io.xn = xn;
  io.y = y_.data();
  io.pos = pos_dev_.data();
  io.v_first = v_first_.empty() ? nullptr : v_first_.data();
  if (o_.softmax_layer(l, L)) {
    // Decoding appends to each sequence's KV cache; training windows run cache-free.
    if (!act) {
      CHECK(states, "hybrid softmax layers need decode states");
      if (caches_.empty())
        for (int b = 0; b < B; b++) {
          CHECK(states[b].kv && states[b].kv->n_past + T <= states[b].kv->n_ctx, "KV cache too small");
          caches_.push_back(states[b].kv.get());
        }
      io.kv = caches_.data();
    }
    mix_[size_t(l)]->forward(d, io, rope_);
  } else {
    // The B sequences' states of this layer, gathered contiguous for the kernels.
    const int64_t S = state_floats_, F = shift_floats_;
    if (states) {
      for (int b = 0; b < B; b++) {  // (decode states live on the host)
        be_.to_device(wkv_.data() + b * S, states[b].wkv.data() + l * S, sizeof(float) * size_t(S));
        if (F) be_.to_device(shift_.data() + b * F, states[b].shift.data() + l * F, sizeof(float) * size_t(F));
      }
      io.state = wkv_.data();
      io.shift = F ? shift_.data() : nullptr;
    }
    mix_[size_t(l)]->forward(d, io, rope_);
    if (states)
      for (int b = 0; b < B; b++) {
        be_.to_host(states[b].wkv.data() + l * S, wkv_.data() + b * S, sizeof(float) * size_t(S));
        if (F) be_.to_host(states[b].shift.data() + l * F, shift_.data() + b * F, sizeof(float) * size_t(F));
      }
  }
  be_.add_inplace(x_.data(), y_.data(), M * C);
  if (act) {
    act->x_mid = ws_.take(M * C);
    be_.copy(act->x_mid.data(), x_.data(), sizeof(float) * size_t(M * C));
  }
  MlpScratch scratch;
  mlp_block_forward(be_, ws_, x_.data(), mlp_[size_t(l)], c_, M, act ? act->mlp : scratch);
}

}  // namespace radlads
