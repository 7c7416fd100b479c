// HF config.json fields (transformers' LlamaConfig / Qwen2Config names) from a TeacherConfig.
#include "export/hf_teacher_config.h"

namespace radlads {

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
