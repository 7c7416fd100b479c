// Student options and their config.json form.
#include "models/student_options.h"

#include <cmath>

#include "core/error.h"

namespace radlads {

using json = nlohmann::json;

const char* StudentOptions::arch_name() const {
  switch (arch) {
    case StudentArch::RWKV6: return "rad-rwkv6";
    case StudentArch::RWKV7: return "rad-rwkv7";
    default: return "teacher";
  }
}

float StudentOptions::rwkv7_output_scale(int N) const {
  const bool scaled = legacy_output_scale ? balance_state : !groupnorm_att;
  return scaled ? 1.0f / std::sqrt(float(N)) : 1.0f;
}

StudentArch student_arch_from_name(const std::string& s) {
  if (s == "rad-rwkv6") return StudentArch::RWKV6;
  if (s == "rad-rwkv7") return StudentArch::RWKV7;
  fail("unknown student architecture '{}' (rad-rwkv6, rad-rwkv7)", s);
}

StudentOptions StudentOptions::defaults(StudentArch a, const TeacherConfig& c) {
  StudentOptions o;
  o.arch = a;
  if (a == StudentArch::RWKV6) {
    // DESIGN.md: R_ts = 32, R_d = 64 below C = 4096 (64/128 above).
    o.lora_tokenshift = c.n_embd < 4096 ? 32 : 64;
    o.lora_decay = c.n_embd < 4096 ? 64 : 128;
    o.use_tokenshift = true;
    o.use_rope = false;
  } else {
    // Reference: round(C^e * m / 32) * 32, at least 32.
    auto rank = [&](double e, double m) {
      return std::max(1, int(std::lround(std::pow(double(c.n_embd), e) * m / 32.0))) * 32;
    };
    o.lora_decay = rank(0.5, 1.8);
    o.lora_iclr = rank(0.5, 1.8);
    o.lora_value = rank(0.5, 1.3);
    o.lora_gate = rank(0.8, 0.6);
    o.use_tokenshift = false;
    o.use_rope = true;  // the paper's best RAD-RWKV7 row uses RoPE
  }
  o.balance_state = true;
  o.groupnorm_att = false;
  return o;
}

bool is_student_config(const json& j) {
  if (!j.is_object() || !j.contains("model_type") || !j["model_type"].is_string()) return false;
  std::string t = j["model_type"].get<std::string>();
  return t == "rwkv6qwen2" || t == "rwkv7qwen2";
}

json student_config_json(const TeacherConfig& c, const StudentOptions& o) {
  const bool v6 = o.arch == StudentArch::RWKV6;
  // The teacher's fields (so the base sizes read back), then the student's.
  json j = teacher_hf_config(c);
  j["architectures"] = {v6 ? "RWKV6Qwen2ForCausalLM" : "RWKV7Qwen2ForCausalLM"};
  j["model_type"] = v6 ? "rwkv6qwen2" : "rwkv7qwen2";
  j["teacher_model_type"] = c.arch;
  j["tie_word_embeddings"] = false;  // step 0 unties the head
  j["attention_bias"] = c.attn_bias;
  j["attention_output_bias"] = false;
  j["use_rope"] = o.use_rope;
  j["balance_state"] = o.balance_state;
  j["num_attention_layers"] = o.num_attention_layers;
  if (v6) {
    j["use_tokenshift"] = o.use_tokenshift;
    j["lora_rank_tokenshift"] = o.lora_tokenshift;
    j["lora_rank_decay"] = o.lora_decay;
  } else {
    j["groupnorm_att"] = o.groupnorm_att;
    // Which output-scale rule the weights were trained under (see StudentOptions).
    j["rwkv7_output_scale"] = o.legacy_output_scale ? "balance_state" : "groupnorm";
    j["lora_rank_decay"] = o.lora_decay;
    j["lora_rank_iclr"] = o.lora_iclr;
    j["lora_rank_value_residual_mix"] = o.lora_value;
    j["lora_rank_gate"] = o.lora_gate;
  }
  return j;
}

StudentOptions student_options_from_json(const json& j, const std::string& path) {
  StudentOptions o;
  const std::string t = j.at("model_type").get<std::string>();
  o.arch = t == "rwkv6qwen2" ? StudentArch::RWKV6 : StudentArch::RWKV7;
  auto flag = [&](const char* k, bool def) {
    if (!j.contains(k) || j[k].is_null()) return def;
    if (!j[k].is_boolean() && !j[k].is_number_integer()) fail("{}: field '{}' must be a boolean", path, k);
    return j[k].is_boolean() ? j[k].get<bool>() : j[k].get<int>() != 0;
  };
  o.use_rope = flag("use_rope", false);
  o.use_tokenshift = o.arch == StudentArch::RWKV6 ? flag("use_tokenshift", true) : false;
  o.balance_state = flag("balance_state", true);
  o.groupnorm_att = o.arch == StudentArch::RWKV7 ? flag("groupnorm_att", false) : false;
  if (o.arch == StudentArch::RWKV7) {
    // Absent: a radlads student from before the correction (those carry
    // teacher_model_type) keeps the old rule; anything else (the reference's
    // configs) follows the reference's.
    if (j.contains("rwkv7_output_scale")) {
      const json& s = j["rwkv7_output_scale"];
      if (!s.is_string() || (s != "groupnorm" && s != "balance_state"))
        fail("{}: field 'rwkv7_output_scale' must be \"groupnorm\" or \"balance_state\"", path);
      o.legacy_output_scale = s == "balance_state";
    } else {
      o.legacy_output_scale = j.contains("teacher_model_type");
    }
  }
  // Ranks come from the tensor shapes (read_student_ranks); the config's values
  // stand where no tensor carries them (e.g. no value-residual layer in a hybrid).
  auto rank = [&](const char* k) {
    return j.contains(k) && j[k].is_number_integer() ? j[k].get<int>() : 0;
  };
  o.lora_tokenshift = rank("lora_rank_tokenshift");
  o.lora_decay = rank("lora_rank_decay");
  o.lora_iclr = rank("lora_rank_iclr");
  o.lora_value = rank("lora_rank_value_residual_mix");
  o.lora_gate = rank("lora_rank_gate");
  if (j.contains("num_attention_layers") && !j["num_attention_layers"].is_null()) {
    if (!j["num_attention_layers"].is_number_integer()) fail("{}: num_attention_layers must be an integer", path);
    o.num_attention_layers = j["num_attention_layers"].get<int>();
  }
  return o;
}

}  // namespace radlads
