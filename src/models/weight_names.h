// Weight-name mapping as data: HF (safetensors) names <-> GGUF names, with a
// {l} placeholder for the layer index. Every model in memory uses HF names.
#pragma once

#include <string>

namespace radlads {

struct NamePair {
  const char* hf;
  const char* gguf;
};

// "" when the name is not in the teacher table.
std::string teacher_gguf_to_hf(const std::string& gguf_name);
std::string teacher_hf_to_gguf(const std::string& hf_name);

// Generic helpers for any table (students add their own tables).
std::string map_name(const std::string& name, const NamePair* table, size_t n, bool to_hf);

// "model.layers.{l}.x" with l -> "model.layers.7.x".
std::string layer_name(const char* pattern, int layer);

}  // namespace radlads
