// A RADLADS student: the teacher's decoder with each attention block replaced
// by a RAD-RWKV6 or RAD-RWKV7 time mix (or kept as softmax attention in the
// hybrid layers). Decoding keeps constant memory per sequence: per layer the
// N×N state of each head and the token-shift vector.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/attention_block.h"
#include "models/decoder_parts.h"
#include "models/model.h"
#include "models/rad_rwkv6.h"
#include "models/rad_rwkv7.h"

namespace radlads {

// The recurrent state of one sequence.
struct StudentState {
  int n_past = 0;
  std::vector<float> wkv;        // (L, H, N, N)
  std::vector<float> shift;      // (L, C) previous token's normed input per layer
  std::unique_ptr<KVCache> kv;   // hybrid softmax layers only
  size_t bytes() const;
};

class Student {
 public:
  explicit Student(const Model& m);  // the Model must outlive the Student
  ~Student();
  const TeacherConfig& cfg() const { return c_; }
  StudentState new_state(int n_ctx) const;  // n_ctx matters only for hybrid layers

  // tokens (B,T) appended to states[b] (nullable: fresh zero states, as in
  // training windows). logits as in Teacher::forward.
  void forward(const int32_t* tokens, int B, int T, StudentState* states, float* logits, LogitsMode mode);

 private:
  const Model& m_;
  TeacherConfig c_;
  StudentOptions o_;
  std::vector<const float*> in_norm_;
  std::vector<MlpWeights> mlp_;
  std::vector<std::unique_ptr<Rwkv6TimeMix>> v6_;
  std::vector<std::unique_ptr<Rwkv7TimeMix>> v7_;
  std::vector<AttentionWeights> attn_;  // hybrid layers (indexed by layer)
  const float *embed_, *norm_, *head_;
  RopeTable rope_;
  std::vector<int32_t> pos_;
  AttentionScratch attn_scratch_;
  MlpScratch mlp_scratch_;
  std::vector<float> x_, xn_, y_, v_first_, wkv_, shift_;
};

}  // namespace radlads
