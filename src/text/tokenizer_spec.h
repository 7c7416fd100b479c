// Everything a byte-level BPE tokenizer needs, independent of where it came
// from (GGUF tokenizer.ggml.* metadata or an HF tokenizer.json).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace radlads {

// llama.cpp's token types (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
  UNDEFINED = 0, NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6,
};

struct TokenizerSpec {
  std::string model = "gpt2";  // tokenizer.ggml.model; only byte-level BPE is supported
  std::string pre;             // pre-tokenizer name: qwen2, smollm, llama-bpe, gpt-2, ...
  std::vector<std::string> pre_regexes;  // resolved split regexes, applied in sequence
  std::vector<std::string> tokens;       // byte-level (GPT-2 byte-to-unicode) strings
  std::vector<int32_t> token_types;      // TokenType per token
  std::vector<std::string> merges;       // "left right", rank = index
  int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
  bool add_bos = false;
  std::string chat_template;             // Jinja source, as shipped
};

}  // namespace radlads
