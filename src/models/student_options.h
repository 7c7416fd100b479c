// What makes a model a RADLADS student: the architecture (RAD-RWKV6 or
// RAD-RWKV7), its options and LoRA ranks, and the hybrid layer count. Read from
// and written to an HF config.json with the reference's field names
// (RWKV6Qwen2ForCausalLM / RWKV7Qwen2ForCausalLM).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "models/teacher_config.h"

namespace radlads {

enum class StudentArch { None, RWKV6, RWKV7 };

// The output gate on the time mix's result (the reference's gate_rank_type,
// whose numbers these are): none, the full g = σ(x·gateᵀ) (gate.weight
// [A, C]), or the low-rank g = σ(x·g1)·g2 (g1 [C, R], g2 [R, A]).
enum class GateRank { None = 0, Full = 1, LowRank = 2 };
const char* gate_rank_name(GateRank g);        // "none" / "full" / "lowrank"
GateRank gate_rank_from_name(const std::string& s);  // throws Error

struct StudentOptions {
  StudentArch arch = StudentArch::None;
  // LoRA ranks (read from tensor shapes when loading).
  int lora_tokenshift = 0;    // v6 time_maa_w1 rank per slice (R_ts)
  int lora_decay = 0;         // v6 time_decay_w1 / v7 w1
  int lora_iclr = 0;          // v7 a1
  int lora_value = 0;         // v7 v1 (value residual mix)
  int lora_gate = 0;          // g1 (the low-rank gate)
  bool use_rope = false;
  bool use_tokenshift = true;  // v6 only
  bool balance_state = true;
  bool groupnorm_att = false;  // GroupNorm ln_x on the time mix's output
  GateRank gate = GateRank::LowRank;  // the architecture's default (v6: Full, v7: LowRank)
  // v7: students written before DESIGN.md's correction scaled p by N^-1/2 iff
  // balance_state (also before GroupNorm); they keep that function on load.
  bool legacy_output_scale = false;
  int num_attention_layers = 0;  // hybrid: the last n layers keep softmax attention

  bool is_student() const { return arch != StudentArch::None; }
  bool softmax_layer(int l, int n_layer) const { return l >= n_layer - num_attention_layers; }
  const char* arch_name() const;  // "rad-rwkv6" / "rad-rwkv7"
  // v7: the factor on p = S·r before the optional GroupNorm. DESIGN.md (the
  // reference's rule): N^-1/2 without GroupNorm, 1 with it.
  float rwkv7_output_scale(int N) const;

  // The paper's defaults for this arch and teacher size (DESIGN.md).
  static StudentOptions defaults(StudentArch a, const TeacherConfig& c);
};

StudentArch student_arch_from_name(const std::string& s);  // throws Error

// A boolean config.json field (true/false or 0/1); def when absent or null.
// Throws Error naming path and key otherwise.
bool config_flag(const nlohmann::json& j, const char* key, bool def, const std::string& path);

// The first layer that is not softmax attention, or -1 when none is.
int first_recurrent_layer(const TeacherConfig& c, const StudentOptions& o);

// config.json of a student folder: the teacher's fields (so the base sizes
// read back) plus the student's, with the reference's names.
nlohmann::json student_config_json(const TeacherConfig& c, const StudentOptions& o);
// Reads the student part; the caller reads the teacher part with
// teacher_config_from_hf after mapping model_type (see base_model_type).
StudentOptions student_options_from_json(const nlohmann::json& j, const std::string& path);
// True when config.json describes a student (model_type rwkv6qwen2 / rwkv7qwen2).
bool is_student_config(const nlohmann::json& j);

}  // namespace radlads
