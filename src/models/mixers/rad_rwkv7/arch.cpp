// RAD-RWKV7 as a registered architecture: its options, tensors, step-0 init,
// mixer, decode state and llama.cpp GGUF form (DESIGN.md, Students).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "models/mixers/mixer_arch.h"
#include "models/mixers/output_gate.h"
#include "models/mixers/rad_rwkv7/time_mix.h"
#include "models/student_gguf_arch.h"
#include "models/student_weights.h"

namespace radlads {

namespace {

void defaults(StudentOptions& o, const TeacherConfig& c) {
  // Reference: round(C^e * m / 32) * 32, at least 32.
  auto rank = [&](double e, double m) {
    return std::max(1, int(std::lround(std::pow(double(c.n_embd), e) * m / 32.0))) * 32;
  };
  o.lora_decay = rank(0.5, 1.8);
  o.lora_iclr = rank(0.5, 1.8);
  o.lora_value = rank(0.5, 1.3);
  o.lora_gate = rank(0.8, 0.6);
  o.gate = GateRank::LowRank;
  o.use_tokenshift = false;
  o.use_rope = true;  // the paper's best RAD-RWKV7 row uses RoPE
}

void config_write(nlohmann::json& j, const StudentOptions& o) {
  j["groupnorm_att"] = o.groupnorm_att;
  // Which output-scale rule the weights were trained under (see StudentOptions).
  j["rwkv7_output_scale"] = o.legacy_output_scale ? "balance_state" : "groupnorm";
  j["lora_rank_decay"] = o.lora_decay;
  j["lora_rank_iclr"] = o.lora_iclr;
  j["lora_rank_value_residual_mix"] = o.lora_value;
}

void config_read(const nlohmann::json& j, StudentOptions& o, const std::string& path) {
  o.groupnorm_att = config_flag(j, "groupnorm_att", false, path);
  o.gate = GateRank::LowRank;  // the reference's default gate_rank_type (2)
  // Absent: a radlads student from before the correction (those carry
  // teacher_model_type) keeps the old rule; anything else (the reference's
  // configs) follows the reference's.
  if (j.contains("rwkv7_output_scale")) {
    const nlohmann::json& s = j["rwkv7_output_scale"];
    if (!s.is_string() || (s != "groupnorm" && s != "balance_state"))
      fail("{}: field 'rwkv7_output_scale' must be \"groupnorm\" or \"balance_state\"", path);
    o.legacy_output_scale = s == "balance_state";
  } else {
    o.legacy_output_scale = j.contains("teacher_model_type");
  }
}

void layer_tensors(const TeacherConfig& c, const StudentOptions& o, int layer,
                   std::vector<std::pair<std::string, Shape>>& out) {
  const int64_t C = c.n_embd, A = int64_t(c.n_head) * c.head_dim;  // A: attention width H*N
  out.push_back({"w0", {1, 1, A}});
  out.push_back({"w1", {C, o.lora_decay}});
  out.push_back({"w2", {o.lora_decay, A}});
  out.push_back({"a0", {1, 1, A}});
  out.push_back({"a1", {C, o.lora_iclr}});
  out.push_back({"a2", {o.lora_iclr, A}});
  if (layer > 0) {  // layer 0 sets v_first and has no value-residual mix
    out.push_back({"v0", {1, 1, A}});
    out.push_back({"v1", {C, o.lora_value}});
    out.push_back({"v2", {o.lora_value, A}});
  }
  output_gate_tensors(C, A, o, out);
  out.push_back({"k_k", {1, 1, A}});
  out.push_back({"k_a", {1, 1, A}});
  if (o.groupnorm_att) {
    out.push_back({"ln_x.weight", {A}});
    out.push_back({"ln_x.bias", {A}});
  }
}

void init_tensor(const std::string& leaf, Tensor& t, int layer, int n_layer, std::mt19937_64& rng) {
  const double ratio = n_layer > 1 ? double(layer) / (n_layer - 1) : 0.0;  // 0 .. 1 over depth
  const int64_t A = t.numel();
  if (leaf == "v0" || leaf == "k_a" || leaf == "ln_x.weight") {
    std::fill(t.data.begin(), t.data.end(), 1.0f);
  } else if (leaf == "k_k") {
    std::fill(t.data.begin(), t.data.end(), 0.85f);
  } else if (leaf == "w0") {
    for (int64_t i = 0; i < A; i++)
      t.data[size_t(i)] = float(-7.0 + 5.0 * std::pow(double(i) / double(A - 1), 0.85 + std::sqrt(ratio)) + 0.5);
  } else if (leaf == "w2" || leaf == "a2" || leaf == "v2" || leaf == "g2") {
    orthogonal_init(t, 0.1, rng);
  }
  // Everything else (w1, a1, v1, g1, a0, ln_x.bias) starts at 0.
}

void read_ranks(const Model& m, StudentOptions& o) {
  const int l = first_recurrent_layer(m.cfg, o);
  if (l < 0) return;
  auto dim = [&](int layer, const char* n) {
    return int(m.w(fmt::format("model.layers.{}.self_attn.{}", layer, n)).dim(1));
  };
  o.lora_decay = dim(l, "w1");
  o.lora_iclr = dim(l, "a1");
  if (o.gate == GateRank::LowRank) o.lora_gate = dim(l, "g1");
  for (int k = l + 1; k < m.cfg.n_layer; k++)  // layer 0 has no value-residual mix
    if (!o.softmax_layer(k, m.cfg.n_layer)) {
      o.lora_value = dim(k, "v1");
      break;
    }
}

std::unique_ptr<TokenMixer> make(const Backend& be, Workspace& ws, const Model& m, int layer) {
  return std::make_unique<Rwkv7TimeMix>(be, ws, m, layer);
}
// The reference declares v0/v1/v2 in layer 0 too (it reads them only from
// layer 1 on) and r_k [H, N] in every layer (read by none of its current code).
void from_reference(Model& m) {
  for (int l = 0; l < m.cfg.n_layer; l++) {
    const std::string p = fmt::format("model.layers.{}.self_attn.", l);
    m.weights.erase(p + "r_k");
    if (l == 0)
      for (const char* n : {"v0", "v1", "v2"}) m.weights.erase(p + n);
  }
}

void to_reference(const Model& m, std::vector<std::pair<std::string, Tensor>>& add, std::vector<std::string>&) {
  const TeacherConfig& c = m.cfg;
  const StudentOptions& o = m.student;
  const int64_t C = c.n_embd, A = int64_t(c.n_head) * c.head_dim;
  for (int l = 0; l < c.n_layer; l++) {
    if (o.softmax_layer(l, c.n_layer)) continue;
    const std::string p = fmt::format("model.layers.{}.self_attn.", l);
    add.push_back({p + "r_k", Tensor({c.n_head, c.head_dim})});
    if (l == 0) {
      add.push_back({p + "v0", Tensor({1, 1, A})});
      add.push_back({p + "v1", Tensor({C, o.lora_value})});
      add.push_back({p + "v2", Tensor({o.lora_value, A})});
    }
  }
}

int64_t shift_floats(const TeacherConfig&) { return 0; }  // no token shift

// Mirrors the takes of time_mix.cpp (forward) and time_mix_backward.cpp, with
// every parameter trained.
MixerTrainFloats train_floats(const TeacherConfig& c, const StudentOptions& o, int layer) {
  const int64_t C = c.n_embd, A = int64_t(c.n_head) * c.head_dim, KD = int64_t(c.n_head_kv) * c.head_dim;
  const int64_t Rw = o.lora_decay, Ra = o.lora_iclr, Rv = o.lora_value;
  const bool gated = o.gate != GateRank::None;
  MixerTrainFloats f;
  // x, r k v, the decay and iclr LoRAs' hidden and outputs, the gate, ke ve kk κ k̃, vmix, ka kb p pn, gp
  f.forward = C + A + 2 * KD + (Rw + Ra + 3 * A) + output_gate_forward_floats(A, o) + 5 * A + A + 4 * A +
              (gated ? A : 0);
  if (layer > 0) f.forward += Rv + A;                 // value-residual LoRA
  if (o.groupnorm_att) f.forward += 2 * c.n_head;     // GroupNorm mean, rstd
  // d_gp (d_g), d_r d_w d_k̃ d_vm d_ka d_kb, d_k d_v, the LoRAs' hidden, d_tmp, the gate's scratch
  f.backward = A + (gated ? A : 0) + 6 * A + 2 * KD + Ra + Rw + C + output_gate_backward_floats(C, A, o, true);
  if (layer > 0) f.backward += A + Rv;
  if (!o.balance_state) f.backward += 2 * A;          // k_k, k_a column sums
  return f;
}
std::string export_note(const Model&) { return ""; }

}  // namespace

const MixerArch& rad_rwkv7_arch() {
  static const MixerArch a{StudentArch::RWKV7,
                           "rad-rwkv7",
                           "rwkv7qwen2",
                           "RWKV7Qwen2ForCausalLM",
                           "arwkv7",
                           /*value_residual=*/true,
                           defaults,
                           config_write,
                           config_read,
                           "lora_rank_iclr lora_rank_value_residual_mix rwkv7_output_scale",
                           layer_tensors,
                           init_tensor,
                           read_ranks,
                           from_reference,
                           to_reference,
                           make,
                           per_head_matrix_state,
                           shift_floats,
                           train_floats,
                           student_gguf::rwkv7_options_blocker,
                           student_gguf::rwkv7_blocker,
                           student_gguf::rwkv7_write,
                           student_gguf::rwkv7_read,
                           student_gguf::rwkv7_config,
                           export_note};
  return a;
}

}  // namespace radlads
