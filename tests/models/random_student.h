// Students with every tensor randomised (step 0 zeroes many tensors, which
// would hide bugs and wrong permutations), built on the tiny golden teachers;
// shared by the model and export tests.
#pragma once

#include <random>

#include "models/golden_models.h"
#include "models/student_weights.h"

namespace radlads::test {

struct StudentSpec {
  StudentArch arch;
  const char* teacher;  // "qwen2" (biases, GQA 4/2) or "llama" (no biases, GQA 4/1)
  int use_rope = 0, tokenshift = 1, balance = 1, groupnorm = 0, attention_layers = 0;
  int gate = -1;  // GateRank (the reference's gate_rank_type); -1: the architecture's default
};

inline Model random_student(const StudentSpec& v, uint64_t seed) {
  Model t = open_model(golden_model(v.teacher));
  StudentOptions o = StudentOptions::defaults(v.arch, t.cfg);
  o.lora_tokenshift = 4, o.lora_decay = 6, o.lora_iclr = 5, o.lora_value = 3, o.lora_gate = 7;
  o.use_rope = v.use_rope, o.use_tokenshift = v.tokenshift && v.arch == StudentArch::RWKV6;
  o.balance_state = v.balance, o.groupnorm_att = v.groupnorm;
  o.num_attention_layers = v.attention_layers;
  if (v.gate >= 0) o.gate = GateRank(v.gate);
  Model m = init_student(t, o, seed);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 0.2f);
  for (auto& spec : student_new_tensors(m.cfg, m.student)) {
    Tensor& w = m.weights[spec.name];
    // Decays (v6 time_decay, v7 w0) stay in a sane range; the rest gets noise on top of the init.
    const bool decay = spec.name.ends_with("time_decay");
    const bool w0 = spec.name.ends_with(".w0");
    for (auto& x : w.data) x = decay ? -1.0f + n(rng) : w0 ? 0.5f + n(rng) : x + n(rng);
  }
  return m;
}

}  // namespace radlads::test
