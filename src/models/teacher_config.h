// Hyper-parameters of a Llama / Qwen2 / Mistral-style decoder, read from an HF
// config.json or from GGUF metadata, validated once.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace radlads {

class GgufFile;

struct TeacherConfig {
  std::string arch;        // "llama" | "qwen2" | "mistral" (HF model_type)
  int n_layer = 0;         // L
  int n_embd = 0;          // C
  int n_head = 0;          // H
  int n_head_kv = 0;       // KVH
  int head_dim = 0;        // N
  int n_ff = 0;            // MLP width
  int n_vocab = 0;         // V
  int n_ctx_train = 0;     // max_position_embeddings
  double rope_theta = 10000.0;
  double rms_eps = 1e-6;
  bool tie_embeddings = false;
  bool attn_bias = false;  // q/k/v biases (Qwen2)

  nlohmann::json to_json() const;  // for --json and for logs
  // Checks positivity and divisibility (H % KVH, even N); throws Error naming source.
  void validate(const std::string& source) const;
};

TeacherConfig teacher_config_from_hf(const nlohmann::json& j, const std::string& path);
TeacherConfig teacher_config_from_gguf(const GgufFile& f);

// config.json of an HF folder for this teacher (Llama / Qwen2 / Mistral
// field names), for a teacher that came from GGUF and so has none of its own.
nlohmann::json teacher_hf_config(const TeacherConfig& c);

}  // namespace radlads
