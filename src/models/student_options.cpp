// Student options and their config.json form.
#include "models/student_options.h"

#include <cmath>

#include "core/error.h"
#include "io/json_checked.h"
#include "models/mixers/mixer_arch.h"

namespace radlads {

using json = nlohmann::json;

const char* StudentOptions::arch_name() const { return is_student() ? mixer_arch(arch).name : "teacher"; }

float StudentOptions::rwkv7_output_scale(int N) const {
  const bool scaled = legacy_output_scale ? balance_state : !groupnorm_att;
  return scaled ? 1.0f / std::sqrt(float(N)) : 1.0f;
}

StudentArch student_arch_from_name(const std::string& s) { return mixer_arch_by_name(s).id; }

bool config_flag(const json& j, const char* k, bool def, const std::string& path) {
  if (!j.contains(k) || j[k].is_null()) return def;
  if (!j[k].is_boolean() && !j[k].is_number_integer()) fail("{}: field '{}' must be a boolean", path, k);
  return j[k].is_boolean() ? j[k].get<bool>() : j[k].get<int>() != 0;
}

int first_recurrent_layer(const TeacherConfig& c, const StudentOptions& o) {
  for (int l = 0; l < c.n_layer; l++)
    if (!o.softmax_layer(l, c.n_layer)) return l;
  return -1;
}

StudentOptions StudentOptions::defaults(StudentArch a, const TeacherConfig& c) {
  StudentOptions o;
  o.arch = a;
  mixer_arch(a).defaults(o, c);
  o.balance_state = true;
  o.groupnorm_att = false;
  return o;
}

bool is_student_config(const json& j) {
  if (!j.is_object() || !j.contains("model_type") || !j["model_type"].is_string()) return false;
  return mixer_arch_by_hf_type(j["model_type"].get<std::string>()) != nullptr;
}

json student_config_json(const TeacherConfig& c, const StudentOptions& o) {
  const MixerArch& a = mixer_arch(o.arch);
  // The teacher's fields (so the base sizes read back), then the student's.
  json j = teacher_hf_config(c);
  j["architectures"] = {a.hf_class};
  j["model_type"] = a.hf_model_type;
  j["teacher_model_type"] = c.arch;
  j["tie_word_embeddings"] = false;  // step 0 unties the head
  j["attention_bias"] = c.attn_bias;
  j["attention_output_bias"] = false;
  j["use_rope"] = o.use_rope;
  j["balance_state"] = o.balance_state;
  j["num_attention_layers"] = o.num_attention_layers;
  a.config_write(j, o);
  return j;
}

namespace {

StudentOptions student_options_from_json_unchecked(const json& j, const std::string& path) {
  if (!j.is_object() || !j.contains("model_type") || !j["model_type"].is_string())
    fail("{}: a student config needs a string field 'model_type'", path);
  StudentOptions o;
  const std::string t = j["model_type"].get<std::string>();
  const MixerArch* a = mixer_arch_by_hf_type(t);
  if (!a) fail("{}: model_type '{}' is not a student architecture", path, t);
  o.arch = a->id;
  o.use_rope = config_flag(j, "use_rope", false, path);
  o.balance_state = config_flag(j, "balance_state", true, path);
  o.use_tokenshift = false;  // the architectures that have one read it
  o.groupnorm_att = false;
  a->config_read(j, o, path);
  // Ranks come from the tensor shapes (read_student_ranks); the config's values
  // stand where no tensor carries them (e.g. no value-residual layer in a hybrid).
  auto rank = [&](const char* k) {
    if (!j.contains(k) || !j[k].is_number_integer()) return 0;
    const int64_t v = j[k].get<int64_t>();
    if (v < 0 || v > (1 << 20)) fail("{}: {} = {} is not a rank", path, k, v);
    return int(v);
  };
  o.lora_tokenshift = rank("lora_rank_tokenshift");
  o.lora_decay = rank("lora_rank_decay");
  o.lora_iclr = rank("lora_rank_iclr");
  o.lora_value = rank("lora_rank_value_residual_mix");
  o.lora_gate = rank("lora_rank_gate");
  if (j.contains("num_attention_layers") && !j["num_attention_layers"].is_null()) {
    if (!j["num_attention_layers"].is_number_integer()) fail("{}: num_attention_layers must be an integer", path);
    const int64_t v = j["num_attention_layers"].get<int64_t>();
    if (v < 0 || v > (1 << 20)) fail("{}: num_attention_layers = {} is out of range", path, v);
    o.num_attention_layers = int(v);
  }
  return o;
}

}  // namespace

StudentOptions student_options_from_json(const json& j, const std::string& path) {
  return json_checked(path, "bad student config", [&] { return student_options_from_json_unchecked(j, path); });
}

}  // namespace radlads
