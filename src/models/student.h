// A RADLADS student: the teacher's decoder with each attention block replaced
// by a RAD-RWKV6 or RAD-RWKV7 time mix (or kept as softmax attention in the
// hybrid layers). Decoding keeps constant memory per sequence: per layer the
// N×N state of each head and the token-shift vector.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "backend/device_array.h"
#include "backend/workspace.h"
#include "models/attention_block.h"
#include "models/decoder_parts.h"
#include "models/model.h"
#include "models/mixers/token_mixer.h"

namespace radlads {

// The recurrent state of one sequence.
struct StudentState {
  int n_past = 0;
  std::vector<float> wkv;        // (L, S): each layer's recurrent state (the architecture's size S, e.g. H·N·N)
  std::vector<float> shift;      // (L, F): previous token's normed input (F = C with token shift, else empty)
  std::unique_ptr<KVCache> kv;   // hybrid softmax layers only
  size_t bytes() const;
};

class Student {
 public:
  // Runs on be; the Model must outlive the Student.
  Student(const Backend& be, const Model& m);
  ~Student();
  const TeacherConfig& cfg() const { return c_; }
  StudentState new_state(int n_ctx) const;  // n_ctx matters only for hybrid layers
  // Sizes the position tables for n positions now, so that decoding up to
  // n allocates nothing per token (a decode state calls it with its n_ctx).
  void reserve_positions(int n) { rope_.ensure(n); }

  // tokens (B,T) appended to states[b] (nullable: fresh zero states, as in
  // training windows). logits as in Teacher::forward.
  void forward(const int32_t* tokens, int B, int T, StudentState* states, float* logits, LogitsMode mode);

  // Training: B windows of T tokens from zero states, keeping what
  // backward() needs: every activation, or with recompute only each layer's
  // input, so that the backward reruns one layer's forward at a time (one
  // layer's activations in memory instead of L; the rerun computes the same
  // bits, so the gradients are those without recompute). logits (B*T, V), or
  // null: stop at the final norm, and let the caller run the head over row
  // blocks (head_rows, head_backward_rows, then backward_hidden), so that no
  // (B*T, V) matrix is ever whole.
  void set_recompute(bool on) { recompute_ = on; }
  bool recompute() const { return recompute_; }
  void forward_train(const int32_t* tokens, int B, int T, float* logits);
  // After forward_train: the logits of rows [r0, r0 + n) of the B*T.
  void head_rows(float* logits, int64_t r0, int64_t n);
  // Backward of head_rows for the same rows: lm_head's gradient accumulated
  // into g, the final norm's output gradient of those rows kept for
  // backward_hidden (every row must get exactly one call).
  void head_backward_rows(const float* d_logits, int64_t r0, int64_t n, Arena* g);
  // Backward of the last forward_train below the head (after every row's
  // head_backward_rows): parameter gradients accumulated into g by HF name
  // (names absent from g are frozen).
  void backward_hidden(Arena* g);
  // Both at once from d_logits (B*T, V).
  void backward(const float* d_logits, Arena* g);
  // The largest pass so far, in bytes of its Workspace (the memory plan's check).
  size_t workspace_high_water() const { return ws_.high_water_bytes(); }
  // Workspace floats of a training pass (forward_train, the head's rows,
  // backward_hidden) of B windows of T (student_memory.cpp), and that much
  // reserved at once for the next one.
  static int64_t train_workspace_floats(const TeacherConfig& c, const StudentOptions& o, int B, int T, bool recompute);
  void reserve_train(int B, int T) { ws_.reserve(train_workspace_floats(c_, o_, B, T, recompute_)); }

 private:
  // Activations of one layer kept for the backward (in ws_).
  struct LayerActs {
    std::span<float> x_in, rstd, xn, x_mid;
    MlpScratch mlp;
  };
  void run(const int32_t* tokens, int B, int T, StudentState* states, float* logits, LogitsMode mode, bool save);
  // Layer l on the residual stream x_ (in place): norm, mixer, MLP. act:
  // keep the layer's activations (training; its x_in is the caller's).
  void layer_forward(int l, const MixDims& d, StudentState* states, LayerActs* act);
  void check_rows(const char* what, int64_t r0, int64_t n) const;  // CHECKs rows of the last forward_train

  const Backend& be_;
  // Every activation and scratch buffer of a pass (run(), or forward_train()
  // then backward()): reset at the start, settled at the end.
  Workspace ws_;
  const Model& m_;
  TeacherConfig c_;
  StudentOptions o_;
  std::vector<const float*> in_norm_;
  std::vector<MlpWeights> mlp_;
  // Each layer's token mixer (models/mixers/): the architecture's, or softmax
  // attention in a hybrid's last layers.
  std::vector<std::unique_ptr<TokenMixer>> mix_;
  bool value_residual_ = false;               // the architecture shares v_first across layers
  int64_t state_floats_ = 0, shift_floats_ = 0;  // decode state per recurrent layer
  const float *embed_, *norm_, *head_;
  RopeTable rope_;
  std::vector<int32_t> pos_;      // the pass's positions, computed here
  DeviceArray<int32_t> pos_dev_;  // and in the backend's memory, for the ops
  std::span<float> x_, xn_, y_, v_first_, wkv_, shift_;
  // Training caches (forward_train): per layer, and the final norm's.
  std::vector<LayerActs> acts_;
  std::span<float> x_final_, rstd_final_, xn_final_, d_xn_final_;
  bool recompute_ = false;
  DeviceArray<int32_t> tokens_;  // forward_train's tokens, for the embedding's backward
  int train_B_ = 0, train_T_ = 0;
  std::vector<int32_t> bw_pos_;     // backward()'s positions, kept between calls
  DeviceArray<int32_t> bw_pos_dev_;
  std::vector<std::string> layer_prefix_;  // "model.layers.<l>." (gradient names without allocating)
  std::vector<KVCache*> caches_;          // run()'s hybrid-layer caches
};

}  // namespace radlads
