// Student backward: the forward's call list in reverse —
//   head, final norm, then per layer from the top: MLP, time mix (or the
//   hybrid layers' softmax attention), input norm;
//   finally the embedding. The residual stream's gradient d_x accumulates.
//   With recompute, each layer's forward is rerun from its kept input just
//   before its backward, and its activations are dropped right after.
#include "core/error.h"
#include "models/student.h"
#include "models/weight_names.h"

namespace radlads {

void Student::check_rows(const char* what, int64_t r0, int64_t n) const {
  CHECK(train_B_ > 0 && r0 >= 0 && n >= 0 && r0 + n <= int64_t(train_B_) * train_T_,
        "{}: rows {}+{} outside the training forward", what, r0, n);
}

void Student::head_rows(float* logits, int64_t r0, int64_t n) {
  check_rows("head_rows", r0, n);
  const int64_t C = c_.n_embd;
  be_.matmul_forward(logits, xn_final_.data() + r0 * C, head_, nullptr, n, C, c_.n_vocab);
}

void Student::head_backward_rows(const float* d_logits, int64_t r0, int64_t n, Arena* g) {
  check_rows("head_backward_rows", r0, n);
  const int64_t C = c_.n_embd;
  be_.matmul_backward(d_xn_final_.data() + r0 * C, grad_ptr(g, "lm_head.weight"), nullptr, d_logits,
                      xn_final_.data() + r0 * C, head_, n, C, c_.n_vocab);
}

void Student::backward(const float* d_logits, Arena* g) {
  CHECK(train_B_ > 0, "backward() needs a forward_train() first");
  head_backward_rows(d_logits, 0, int64_t(train_B_) * train_T_, g);
  backward_hidden(g);
}

void Student::backward_hidden(Arena* g) {
  CHECK(!acts_.empty() && train_B_ > 0, "backward() needs a forward_train() first");
  const int L = c_.n_layer, B = train_B_, T = train_T_;
  const MixDims d(c_, B, T);
  const int64_t M = d.M, C = d.C;
  // After the forward's activations in the same pass (ws_).
  const std::span<float> d_x = ws_.take(M * C), d_xn = ws_.take(M * C), d_tmp = ws_.take(M * C);
  const std::span<float> d_v_first = value_residual_ ? ws_.take(M * d.A) : std::span<float>();
  if (value_residual_) be_.fill(d_v_first.data(), 0.0f, M * d.A);
  // Positions of the training windows (each starts at 0).
  std::vector<int32_t>& pos = bw_pos_;
  pos.resize(size_t(M));
  for (int64_t i = 0; i < M; i++) pos[size_t(i)] = int32_t(i % T);
  const int32_t* pos_dev = bw_pos_dev_.upload(pos);

  be_.rmsnorm_backward(d_x.data(), grad_ptr(g, "model.norm.weight"), d_xn_final_.data(), x_final_.data(), norm_,
                       rstd_final_.data(), M, C);
  for (int l = L - 1; l >= 0; l--) {
    LayerActs& a = acts_[size_t(l)];
    // This layer's scratch (and with recompute its rerun activations) lives
    // until the layer's backward is done.
    const Workspace::Mark mark = ws_.mark();
    if (recompute_) {  // the forward from the kept input: the same calls, the same bits
      be_.copy(x_.data(), a.x_in.data(), sizeof(float) * size_t(M * C));
      layer_forward(l, d, nullptr, &a);
    }
    auto G = [&](const char* leaf) { return grad_ptr(g, layer_prefix_[size_t(l)], leaf); };
    MlpGrads mg{G("post_attention_layernorm.weight"), G("mlp.gate_proj.weight"), G("mlp.up_proj.weight"),
                G("mlp.down_proj.weight")};
    mlp_block_backward(be_, ws_, d_x.data(), mg, mlp_[size_t(l)], c_, a.x_mid.data(), M, a.mlp);
    // The mixer's output was added to the residual: its gradient is d_x itself.
    // A softmax layer neither reads nor writes RWKV7's v_first, so d_v_first
    // passes through it untouched.
    mix_[size_t(l)]->backward(d_xn.data(), d_v_first.empty() ? nullptr : d_v_first.data(), d_x.data(), d, pos_dev,
                              v_first_.empty() ? nullptr : v_first_.data(), rope_, g);
    be_.rmsnorm_backward(d_tmp.data(), G("input_layernorm.weight"), d_xn.data(), a.x_in.data(),
                         in_norm_[size_t(l)], a.rstd.data(), M, C);
    ws_.release(mark);
    be_.add_inplace(d_x.data(), d_tmp.data(), M * C);
  }
  if (float* de = grad_ptr(g, "model.embed_tokens.weight")) be_.embedding_backward(de, d_x.data(), tokens_.data(), M, C);
  ws_.settle();  // the pass is over: the next forward_train lays out the same buffers
  train_B_ = 0;  // the activations are gone
}

}  // namespace radlads
