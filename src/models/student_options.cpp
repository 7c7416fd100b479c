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

const char* gate_rank_name(GateRank g) {
  switch (g) {
    case GateRank::None: return "none";
    case GateRank::Full: return "full";
    case GateRank::LowRank: return "lowrank";
  }
  return "?";
}

GateRank gate_rank_from_name(const std::string& s) {
  for (GateRank g : {GateRank::None, GateRank::Full, GateRank::LowRank})
    if (s == gate_rank_name(g)) return g;
  fail("gate '{}': must be none, full or lowrank", s);
}

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
  j["gate_rank_type"] = int(o.gate);
  j["lora_rank_gate"] = o.lora_gate;
  a.config_write(j, o);
  return j;
}

namespace {

// The fields every student config may carry: the reference's
// configuration_rwkv6qwen2.py / configuration_rwkv7qwen2.py arguments,
// transformers' PretrainedConfig attributes (generation defaults, token ids,
// bookkeeping: none changes the network), and ours.
const char* const kSharedFields =
    // the reference's, with their meaning here
    " vocab_size hidden_size intermediate_size num_hidden_layers num_attention_heads num_key_value_heads head_dim"
    " hidden_act max_position_embeddings rms_norm_eps tie_word_embeddings rope_theta rope_scaling"
    " use_rope use_tokenshift balance_state groupnorm_att gate_rank_type lora_rank_gate lora_rank_decay"
    " num_attention_layers attention_bias attention_output_bias use_sliding_window sliding_window"
    " max_window_layers"
    // the reference's, inert here: weight init (step 0 has DESIGN.md's), the
    // runtime cache flag, training-time dropout (radlads trains without it)
    " initializer_range use_cache attention_dropout"
    // PretrainedConfig
    " architectures model_type torch_dtype dtype transformers_version auto_map _name_or_path _commit_hash"
    " _attn_implementation _attn_implementation_autoset bos_token_id eos_token_id pad_token_id sep_token_id"
    " decoder_start_token_id return_dict output_hidden_states output_attentions torchscript use_bfloat16"
    " tf_legacy_loss pruned_heads chunk_size_feed_forward is_encoder_decoder is_decoder"
    " cross_attention_hidden_size add_cross_attention tie_encoder_decoder max_length min_length do_sample"
    " early_stopping num_beams num_beam_groups diversity_penalty temperature top_k top_p typical_p"
    " repetition_penalty length_penalty no_repeat_ngram_size encoder_no_repeat_ngram_size bad_words_ids"
    " num_return_sequences output_scores return_dict_in_generate forced_bos_token_id forced_eos_token_id"
    " remove_invalid_values exponential_decay_length_penalty suppress_tokens begin_suppress_tokens"
    " finetuning_task id2label label2id tokenizer_class prefix task_specific_params problem_type"
    // radlads'
    " teacher_model_type ";

// Refuses a field neither the reference nor transformers nor radlads defines:
// its effect on the network would be unknown, and guessing is worse than an error.
void check_fields(const json& j, const MixerArch& a, const std::string& path) {
  const std::string own = std::string(" ") + a.config_fields + " ";
  for (const auto& [key, value] : j.items()) {
    const std::string k = " " + key + " ";
    if (std::string_view(kSharedFields).find(k) == std::string_view::npos && own.find(k) == std::string::npos)
      fail("{}: unknown field '{}' for {} (neither the reference's configuration_{}.py nor transformers "
           "defines it, so what it changes is unknown)",
           path, key, a.hf_model_type, a.hf_model_type);
  }
  if (config_flag(j, "use_sliding_window", false, path))
    fail("{}: use_sliding_window=true (sliding-window softmax attention) is not supported", path);
}

StudentOptions student_options_from_json_unchecked(const json& j, const std::string& path) {
  if (!j.is_object() || !j.contains("model_type") || !j["model_type"].is_string())
    fail("{}: a student config needs a string field 'model_type'", path);
  StudentOptions o;
  const std::string t = j["model_type"].get<std::string>();
  const MixerArch* a = mixer_arch_by_hf_type(t);
  if (!a) fail("{}: model_type '{}' is not a student architecture", path, t);
  o.arch = a->id;
  check_fields(j, *a, path);
  o.use_rope = config_flag(j, "use_rope", false, path);
  o.balance_state = config_flag(j, "balance_state", true, path);
  o.use_tokenshift = false;  // the architectures that have one read it
  o.groupnorm_att = false;
  a->config_read(j, o, path);  // sets the architecture's default gate first
  if (j.contains("gate_rank_type") && !j["gate_rank_type"].is_null()) {
    const json& g = j["gate_rank_type"];
    if (!g.is_number_integer() || g.get<int64_t>() < 0 || g.get<int64_t>() > 2)
      fail("{}: gate_rank_type {} must be 0 (no gate), 1 (gate.weight) or 2 (g1, g2)", path, g.dump());
    o.gate = GateRank(g.get<int>());
  }
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
