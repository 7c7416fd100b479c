// TokenizerSpec from GGUF metadata (the keys llama.cpp's converter writes),
// and load_tokenizer() choosing between GGUF and an HF folder.
#include "text/gguf_tokenizer.h"

#include <filesystem>
#include <string_view>
#include <unordered_set>

#include "core/error.h"
#include "io/gguf.h"
#include "text/hf_tokenizer.h"
#include "text/pretokenizer.h"

namespace radlads {

namespace {

// Texts llama.cpp recognises as end-of-turn / end-of-generation / FIM tokens
// when it loads a vocabulary; it gives them the CONTROL attribute even when
// the file says otherwise, which decides whether they are parsed as special.
const std::unordered_set<std::string_view>& control_looking_tokens() {
  static const std::unordered_set<std::string_view> s = {
      "<|eot_id|>",
      "<|im_end|>",
      "<|end|>",
      "<end_of_turn>",
      "<|endoftext|>",
      "<|end_of_text|>",
      "<EOT>",
      "_<EOT>",
      "<|eom_id|>",
      "<|return|>",
      "<|call|>",
      "<end_of_utterance>",
      "<|fim_prefix|>",
      "<fim-prefix>",
      "<fim_prefix>",
      "<PRE>",
      "\xE2\x96\x81<PRE>",
      "<|fim_suffix|>",
      "<fim-suffix>",
      "<fim_suffix>",
      "<SUF>",
      "\xE2\x96\x81<SUF>",
      "<|fim_middle|>",
      "<fim-middle>",
      "<fim_middle>",
      "<MID>",
      "\xE2\x96\x81<MID>",
      "<|fim_pad|>",
      "<fim-pad>",
      "<fim_pad>",
      "<PAD>",
      "<|fim_repo|>",
      "<|repo_name|>",
      "<fim-repo>",
      "<REPO>",
      "<reponame>",
      "<|file_sep|>",
  };
  return s;
}

}  // namespace

TokenizerSpec tokenizer_spec_from_gguf(const GgufFile& f) {
  TokenizerSpec spec;
  spec.model = f.get_str("tokenizer.ggml.model");
  if (spec.model != "gpt2")
    fail("{}: tokenizer.ggml.model: '{}' is not supported (only byte-level BPE, 'gpt2')", f.path(),
         spec.model);
  spec.pre = f.opt_str("tokenizer.ggml.pre").value_or("default");
  spec.pre_regexes = pretokenizer_regexes(spec.pre);
  if (spec.pre_regexes.empty())
    fail("{}: tokenizer.ggml.pre: '{}' is not supported (known: qwen2, smollm, llama-bpe, gpt-2, default)",
         f.path(), spec.pre);
  spec.tokens = f.get_str_array("tokenizer.ggml.tokens");
  const size_t n = spec.tokens.size();
  if (f.find("tokenizer.ggml.token_type")) {
    const std::vector<int64_t> types = f.get_int_array("tokenizer.ggml.token_type");
    if (types.size() != n)
      fail("{}: tokenizer.ggml.token_type: {} entries for {} tokens", f.path(), types.size(), n);
    spec.token_types.assign(types.begin(), types.end());
  } else {
    spec.token_types.assign(n, int32_t(TokenType::NORMAL));
  }
  for (size_t i = 0; i < n; ++i)
    if (control_looking_tokens().count(spec.tokens[i])) spec.token_types[i] = int32_t(TokenType::CONTROL);
  spec.merges = f.get_str_array("tokenizer.ggml.merges");
  auto id_key = [&](const char* key) -> int32_t {
    const std::optional<int64_t> v = f.opt_int(key);
    if (!v) return -1;
    if (*v < 0 || *v >= int64_t(n)) fail("{}: {}: id {} out of range [0, {})", f.path(), key, *v, n);
    return int32_t(*v);
  };
  spec.bos_id = id_key("tokenizer.ggml.bos_token_id");
  spec.eos_id = id_key("tokenizer.ggml.eos_token_id");
  spec.unk_id = id_key("tokenizer.ggml.unknown_token_id");
  spec.pad_id = id_key("tokenizer.ggml.padding_token_id");
  spec.add_bos = f.opt_bool("tokenizer.ggml.add_bos_token").value_or(false);
  spec.chat_template = f.opt_str("tokenizer.chat_template").value_or("");
  return spec;
}

Tokenizer load_tokenizer(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  if (!is_dir && !fs::exists(path, ec)) fail("{}: no such file or directory", path);
  try {
    if (is_dir) return Tokenizer(tokenizer_spec_from_hf(path));
    const GgufFile f(path);
    return Tokenizer(tokenizer_spec_from_gguf(f));
  } catch (const Error& e) {
    // Validation errors from Tokenizer do not know the path; add it once.
    const std::string msg = e.what();
    if (msg.rfind(path, 0) == 0) throw;
    fail("{}: {}", path, msg);
  }
}

}  // namespace radlads
