// The teacher's softmax attention as a token mixer: the layers a hybrid
// student keeps (DESIGN.md, num_attention_layers), trainable in steps 2 and 3.
// The KV cache of a decode state holds only these layers, in order.
#include <fmt/format.h>

#include "core/error.h"
#include "models/attention_block.h"
#include "models/mixers/mixer_arch.h"
#include "models/teacher.h"

namespace radlads {

namespace {

class SoftmaxAttentionMixer final : public TokenMixer {
 public:
  SoftmaxAttentionMixer(const Backend& be, Workspace& ws, const Model& m, int layer)
      : be_(be), ws_(ws), c_(m.cfg), w_(teacher_attention_weights(m, layer)), p_(fmt::format("model.layers.{}.", layer)),
        slot_(layer - (m.cfg.n_layer - m.student.num_attention_layers)) {
    CHECK(slot_ >= 0, "layer {} is not one of the softmax layers", layer);
  }

  void forward(const MixDims& d, TimeMixIO& io, const RopeTable& rope) override {
    if (!io.kv) {  // fresh causal windows: the training forward, which keeps what backward needs
      xn_ = io.xn;
      attention_block_forward_train(be_, ws_, io.y, acts_, io.xn, w_, c_, d.B, d.T, io.pos, rope);
      return;
    }
    // attention_block_forward wants a contiguous array of caches: one sequence at a time.
    for (int b = 0; b < d.B; b++)
      attention_block_forward(be_, ws_, io.y + int64_t(b) * d.T * d.C, io.xn + int64_t(b) * d.T * d.C, w_, c_, 1, d.T,
                              io.pos + int64_t(b) * d.T, io.kv[b], slot_, rope, scratch_);
  }

  // Neither reads nor writes RWKV7's v_first: d_v_first passes through.
  void backward(float* d_xn, float*, const float* d_y, const MixDims& d, const int32_t* pos, const float*,
                const RopeTable& rope, Arena* g) override {
    CHECK(xn_, "softmax attention: backward() needs a training forward first");
    auto G = [&](const char* leaf) { return grad_ptr(g, p_, leaf); };
    const AttentionGrads ag{G("self_attn.q_proj.weight"), G("self_attn.q_proj.bias"), G("self_attn.k_proj.weight"),
                            G("self_attn.k_proj.bias"),   G("self_attn.v_proj.weight"), G("self_attn.v_proj.bias"),
                            G("self_attn.o_proj.weight")};
    // The forward's input xn must still be alive: the student keeps it per layer.
    attention_block_backward(be_, ws_, d_xn, ag, d_y, acts_, xn_, w_, c_, d.B, d.T, pos, rope);
  }

 private:
  const Backend& be_;
  Workspace& ws_;
  TeacherConfig c_;
  AttentionWeights w_;
  std::string p_;  // "model.layers.<l>."
  int slot_;       // this layer's slot in a decode state's KV cache
  AttentionActs acts_;
  AttentionScratch scratch_;
  const float* xn_ = nullptr;  // the training forward's input, for backward
};

}  // namespace

std::unique_ptr<TokenMixer> make_softmax_attention_mixer(const Backend& be, Workspace& ws, const Model& m, int layer) {
  return std::make_unique<SoftmaxAttentionMixer>(be, ws, m, layer);
}

// attention_block.cpp's takes: q att k v forward; d_att d_q d_k d_v d_tmp backward.
MixerTrainFloats softmax_attention_train_floats(const TeacherConfig& c) {
  const int64_t QD = int64_t(c.n_head) * c.head_dim, KD = int64_t(c.n_head_kv) * c.head_dim;
  return {2 * QD + 2 * KD, 2 * QD + 2 * KD + c.n_embd};
}

}  // namespace radlads
