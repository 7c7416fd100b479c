// RAD-RWKV6 as a registered architecture: its options, tensors, step-0 init,
// mixer, decode state and llama.cpp GGUF form (DESIGN.md, Students).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "models/mixers/mixer_arch.h"
#include "models/mixers/output_gate.h"
#include "models/mixers/rad_rwkv6/time_mix.h"
#include "models/student_gguf.h"
#include "models/student_gguf_arch.h"
#include "models/student_weights.h"

namespace radlads {

namespace {

void defaults(StudentOptions& o, const TeacherConfig& c) {
  // DESIGN.md: R_ts = 32, R_d = 64 below C = 4096 (64/128 above).
  o.lora_tokenshift = c.n_embd < 4096 ? 32 : 64;
  o.lora_decay = c.n_embd < 4096 ? 64 : 128;
  o.use_tokenshift = true;
  o.use_rope = false;
  o.gate = GateRank::Full;
  // The low-rank gate's rank, as the reference computes it: round(C^0.8·0.6 / 32)·32, at least 32.
  o.lora_gate = std::max(1, int(std::lround(std::pow(double(c.n_embd), 0.8) * 0.6 / 32.0))) * 32;
}

void config_write(nlohmann::json& j, const StudentOptions& o) {
  j["use_tokenshift"] = o.use_tokenshift;
  j["groupnorm_att"] = o.groupnorm_att;
  j["lora_rank_tokenshift"] = o.lora_tokenshift;
  j["lora_rank_decay"] = o.lora_decay;
}

void config_read(const nlohmann::json& j, StudentOptions& o, const std::string& path) {
  o.gate = GateRank::Full;  // the reference's default gate_rank_type (1)
  o.use_tokenshift = config_flag(j, "use_tokenshift", true, path);
  o.groupnorm_att = config_flag(j, "groupnorm_att", false, path);  // the reference's ln_x
}

void layer_tensors(const TeacherConfig& c, const StudentOptions& o, int layer,
                   std::vector<std::pair<std::string, Shape>>& out) {
  const int64_t C = c.n_embd, A = int64_t(c.n_head) * c.head_dim;  // A: attention width H*N
  for (const char* n : {"time_maa_x", "time_maa_r", "time_maa_k", "time_maa_v", "time_maa_w", "time_maa_g"})
    out.push_back({n, {1, 1, C}});
  out.push_back({"time_maa_w1", {C, 5 * int64_t(o.lora_tokenshift)}});
  out.push_back({"time_maa_w2", {5, o.lora_tokenshift, C}});
  out.push_back({"time_decay", {1, 1, A}});
  out.push_back({"time_decay_w1", {C, o.lora_decay}});
  out.push_back({"time_decay_w2", {o.lora_decay, A}});
  output_gate_tensors(C, A, o, out);
  if (o.groupnorm_att) {
    out.push_back({"ln_x.weight", {A}});
    out.push_back({"ln_x.bias", {A}});
  }
}

void init_tensor(const std::string& leaf, Tensor& t, int layer, int n_layer, std::mt19937_64& rng) {
  const double ratio = n_layer > 1 ? double(layer) / (n_layer - 1) : 0.0;  // 0 .. 1 over depth
  const int64_t A = t.numel();
  if (leaf == "time_maa_x" || leaf == "ln_x.weight") {
    std::fill(t.data.begin(), t.data.end(), 1.0f);
  } else if (leaf == "g2") {  // the low-rank gate, as the reference starts it
    orthogonal_init(t, 0.1, rng);
  } else if (leaf == "time_maa_w2" || leaf == "time_decay_w2") {
    std::uniform_real_distribution<float> u(-0.01f, 0.01f);
    for (auto& x : t.data) x = u(rng);
  } else if (leaf == "time_decay") {
    for (int64_t i = 0; i < A; i++)
      t.data[size_t(i)] = float(-6.0 + 5.0 * std::pow(double(i) / double(A - 1), 0.7 + 1.3 * ratio));
  }
  // Everything else (the other maa, time_maa_w1, time_decay_w1, gate, g1) starts at 0.
}

void read_ranks(const Model& m, StudentOptions& o) {
  const int l = first_recurrent_layer(m.cfg, o);
  if (l < 0) return;
  const std::string p = fmt::format("model.layers.{}.self_attn.", l);
  if (m.w(p + "time_maa_w1").dim(1) % 5 != 0) fail("{}: {}time_maa_w1 width is not a multiple of 5", m.path, p);
  o.lora_tokenshift = int(m.w(p + "time_maa_w1").dim(1)) / 5;
  o.lora_decay = int(m.w(p + "time_decay_w1").dim(1));
  if (o.gate == GateRank::LowRank) o.lora_gate = int(m.w(p + "g1").dim(1));
}

std::unique_ptr<TokenMixer> make(const Backend& be, Workspace& ws, const Model& m, int layer) {
  return std::make_unique<Rwkv6TimeMix>(be, ws, m, layer);
}
int64_t shift_floats(const TeacherConfig& c) { return c.n_embd; }

std::string export_note(const Model& m) {
  // llama.cpp has no −5 floor on log w; say whether that can matter here.
  const DecayClampBound b = rwkv6_decay_clamp_bound(m);
  return fmt::format(
      "log-w clamp (ours: max(-exp(d), -5); llama.cpp: none): can bind in {} of {} channels "
      "(largest bound on d {:.3f}, binds above ln 5 = {:.3f}){}",
      b.may_bind, b.channels, b.max_bound, std::log(5.0), b.may_bind ? "" : ": export is exact");
}

// The reference declares the token-shift tensors only with use_tokenshift;
// ours always carries them (unread without it): zeros where a folder lacks them.
const char* const kShiftLeaves[] = {"time_maa_x", "time_maa_r", "time_maa_k", "time_maa_v",
                                    "time_maa_w", "time_maa_g", "time_maa_w1", "time_maa_w2"};

void from_reference(Model& m) {
  if (m.student.use_tokenshift) return;
  std::vector<std::pair<std::string, Shape>> want;
  for (int l = 0; l < m.cfg.n_layer; l++) {
    if (m.student.softmax_layer(l, m.cfg.n_layer)) continue;
    want.clear();
    layer_tensors(m.cfg, m.student, l, want);
    for (const auto& [leaf, shape] : want)
      for (const char* s : kShiftLeaves)
        if (leaf == s && !m.find(fmt::format("model.layers.{}.self_attn.{}", l, leaf)))
          m.weights.emplace(fmt::format("model.layers.{}.self_attn.{}", l, leaf), Tensor(shape));
  }
}

void to_reference(const Model& m, std::vector<std::pair<std::string, Tensor>>&, std::vector<std::string>& omit) {
  if (m.student.use_tokenshift) return;
  for (int l = 0; l < m.cfg.n_layer; l++)
    for (const char* s : kShiftLeaves) omit.push_back(fmt::format("model.layers.{}.self_attn.{}", l, s));
}

// Mirrors the takes of time_mix.cpp (forward) and time_mix_backward.cpp, with
// every parameter trained.
MixerTrainFloats train_floats(const TeacherConfig& c, const StudentOptions& o, int) {
  const int64_t C = c.n_embd, A = int64_t(c.n_head) * c.head_dim, KD = int64_t(c.n_head_kv) * c.head_dim;
  const int64_t R = o.lora_tokenshift, Rd = o.lora_decay;
  MixerTrainFloats f;
  const bool gated = o.gate != GateRank::None;
  // x5, r k v, the decay LoRA's hidden, dd, the gate, ke ve logw kbal out, go
  f.forward = 5 * C + A + 2 * KD + Rd + A + output_gate_forward_floats(A, o) + 5 * A + (gated ? A : 0);
  if (o.use_tokenshift) f.forward += 3 * C + 5 * R + 5 * C;  // x₋₁ δ xxx, h, m
  if (o.groupnorm_att) f.forward += A + 2 * c.n_head;       // ln_x's output, mean, rstd
  // d_out (d_go d_g), d_r d_kb d_ve d_lw, d_k d_v, d_x5, d_dh, the gate's scratch
  f.backward = A + (gated ? 2 * A : 0) + 4 * A + 2 * KD + 5 * C + Rd + output_gate_backward_floats(C, A, o, false);
  if (o.use_tokenshift) f.backward += 3 * C + 5 * R;         // d_δ d_m d_xxx, d_h
  return f;
}

}  // namespace

const MixerArch& rad_rwkv6_arch() {
  static const MixerArch a{StudentArch::RWKV6,
                           "rad-rwkv6",
                           "rwkv6qwen2",
                           "RWKV6Qwen2ForCausalLM",
                           "rwkv6qwen2",
                           /*value_residual=*/false,
                           defaults,
                           config_write,
                           config_read,
                           "lora_rank_tokenshift",
                           layer_tensors,
                           init_tensor,
                           read_ranks,
                           from_reference,
                           to_reference,
                           make,
                           per_head_matrix_state,
                           shift_floats,
                           train_floats,
                           student_gguf::rwkv6_options_blocker,
                           student_gguf::rwkv6_blocker,
                           student_gguf::rwkv6_write,
                           student_gguf::rwkv6_read,
                           student_gguf::rwkv6_config,
                           export_note};
  return a;
}

}  // namespace radlads
