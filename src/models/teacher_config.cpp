// TeacherConfig from HF config.json or GGUF metadata.
#include "models/teacher_config.h"

#include "core/error.h"
#include "io/gguf.h"
#include "io/json_checked.h"

namespace radlads {

using json = nlohmann::json;

json TeacherConfig::to_json() const {
  return {{"arch", arch},         {"n_layer", n_layer},       {"n_embd", n_embd},
          {"n_head", n_head},     {"n_head_kv", n_head_kv},   {"head_dim", head_dim},
          {"n_ff", n_ff},         {"n_vocab", n_vocab},       {"n_ctx_train", n_ctx_train},
          {"rope_theta", rope_theta}, {"rms_eps", rms_eps},
          {"tie_embeddings", tie_embeddings}, {"attn_bias", attn_bias}};
}

void TeacherConfig::validate(const std::string& src) const {
  auto pos = [&](int v, const char* what) {
    if (v <= 0 || v > (1 << 24)) fail("{}: {} = {} is not a sane positive size", src, what, v);
  };
  pos(n_layer, "n_layer");
  pos(n_embd, "n_embd");
  pos(n_head, "n_head");
  pos(n_head_kv, "n_head_kv");
  pos(head_dim, "head_dim");
  pos(n_ff, "n_ff");
  pos(n_vocab, "n_vocab");
  if (n_head % n_head_kv != 0)
    fail("{}: n_head {} is not a multiple of n_head_kv {}", src, n_head, n_head_kv);
  if (head_dim % 2 != 0) fail("{}: head_dim {} must be even for RoPE", src, head_dim);
  if (!(rope_theta > 0)) fail("{}: rope_theta must be positive", src);
  if (!(rms_eps > 0)) fail("{}: rms_norm_eps must be positive", src);
}

static int get_int(const json& j, const char* key, const std::string& path) {
  if (!j.contains(key)) fail("{}: missing field '{}'", path, key);
  if (!j[key].is_number_integer()) fail("{}: field '{}' must be an integer", path, key);
  return j[key].get<int>();
}

namespace {

TeacherConfig teacher_config_from_hf_unchecked(const json& j, const std::string& path) {
  TeacherConfig c;
  if (!j.is_object()) fail("{}: not a JSON object", path);
  if (!j.contains("model_type") || !j["model_type"].is_string())
    fail("{}: missing string field 'model_type'", path);
  c.arch = j["model_type"].get<std::string>();
  if (c.arch != "llama" && c.arch != "qwen2" && c.arch != "mistral")
    fail("{}: model_type '{}' is not a supported teacher (llama, qwen2, mistral)", path, c.arch);
  c.n_layer = get_int(j, "num_hidden_layers", path);
  c.n_embd = get_int(j, "hidden_size", path);
  c.n_head = get_int(j, "num_attention_heads", path);
  c.n_head_kv = j.contains("num_key_value_heads") ? get_int(j, "num_key_value_heads", path) : c.n_head;
  c.n_ff = get_int(j, "intermediate_size", path);
  c.n_vocab = get_int(j, "vocab_size", path);
  c.n_ctx_train = j.contains("max_position_embeddings") ? get_int(j, "max_position_embeddings", path) : 0;
  c.head_dim = j.contains("head_dim") && !j["head_dim"].is_null() ? get_int(j, "head_dim", path)
                                                                 : (c.n_head > 0 ? c.n_embd / c.n_head : 0);
  if (j.contains("rope_theta")) c.rope_theta = j["rope_theta"].get<double>();
  if (j.contains("rms_norm_eps")) c.rms_eps = j["rms_norm_eps"].get<double>();
  c.tie_embeddings = j.value("tie_word_embeddings", false);
  c.attn_bias = c.arch == "qwen2" || j.value("attention_bias", false);
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null())
    fail("{}: rope_scaling is not supported yet", path);
  if (j.value("hidden_act", std::string("silu")) != "silu")
    fail("{}: hidden_act '{}' is not supported (silu only)", path, j["hidden_act"].dump());
  c.validate(path);
  return c;
}

}  // namespace

TeacherConfig teacher_config_from_hf(const json& j, const std::string& path) {
  return json_checked(path, "bad config", [&] { return teacher_config_from_hf_unchecked(j, path); });
}

TeacherConfig teacher_config_from_gguf(const GgufFile& f) {
  TeacherConfig c;
  std::string a = f.get_str("general.architecture");
  if (a != "llama" && a != "qwen2")
    fail("{}: general.architecture '{}' is not a supported teacher (llama, qwen2)", f.path(), a);
  c.arch = a;
  auto key = [&](const char* k) { return a + "." + k; };
  c.n_layer = int(f.get_int(key("block_count")));
  c.n_embd = int(f.get_int(key("embedding_length")));
  c.n_head = int(f.get_int(key("attention.head_count")));
  c.n_head_kv = int(f.opt_int(key("attention.head_count_kv")).value_or(c.n_head));
  c.n_ff = int(f.get_int(key("feed_forward_length")));
  c.n_ctx_train = int(f.opt_int(key("context_length")).value_or(0));
  c.head_dim = int(f.opt_int(key("attention.key_length")).value_or(c.n_head ? c.n_embd / c.n_head : 0));
  c.rope_theta = f.opt_float(key("rope.freq_base")).value_or(10000.0);
  c.rms_eps = f.get_float(key("attention.layer_norm_rms_epsilon"));
  if (f.find(key("rope.scaling.type")) && f.get_str(key("rope.scaling.type")) != "none")
    fail("{}: rope scaling is not supported yet", f.path());
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  if (!emb) fail("{}: missing tensor token_embd.weight", f.path());
  c.n_vocab = int(emb->shape[0]);
  c.tie_embeddings = f.find_tensor("output.weight") == nullptr;
  c.attn_bias = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.validate(f.path());
  return c;
}

nlohmann::json teacher_hf_config(const TeacherConfig& c) {
  const char* cls = c.arch == "qwen2" ? "Qwen2ForCausalLM" : c.arch == "mistral" ? "MistralForCausalLM" : "LlamaForCausalLM";
  nlohmann::json j = {
      {"architectures", {cls}},
      {"model_type", c.arch},
      {"hidden_size", c.n_embd},
      {"intermediate_size", c.n_ff},
      {"num_hidden_layers", c.n_layer},
      {"num_attention_heads", c.n_head},
      {"num_key_value_heads", c.n_head_kv},
      {"head_dim", c.head_dim},
      {"vocab_size", c.n_vocab},
      {"max_position_embeddings", c.n_ctx_train},
      {"rope_theta", c.rope_theta},
      {"rms_norm_eps", c.rms_eps},
      {"hidden_act", "silu"},
      {"tie_word_embeddings", c.tie_embeddings},
      {"torch_dtype", "float32"},
  };
  // Qwen2 always has q/k/v biases; Llama says so with attention_bias.
  if (c.arch != "qwen2") j["attention_bias"] = c.attn_bias;
  return j;
}

}  // namespace radlads
