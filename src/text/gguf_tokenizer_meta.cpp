// TokenizerSpec -> tokenizer.ggml.* keys (names as llama.cpp's gguf writer uses).
#include "text/gguf_tokenizer_meta.h"

namespace radlads {

void add_tokenizer_metadata(GgufWriter& w, const TokenizerSpec& s) {
  w.set("tokenizer.ggml.model", GgufValue::of_str(s.model));
  w.set("tokenizer.ggml.pre", GgufValue::of_str(s.pre.empty() ? "default" : s.pre));
  w.set("tokenizer.ggml.tokens", GgufValue::of_str_array(s.tokens));
  w.set("tokenizer.ggml.token_type", GgufValue::of_i32_array(s.token_types));
  w.set("tokenizer.ggml.merges", GgufValue::of_str_array(s.merges));
  auto id = [&](const char* key, int32_t v) {
    if (v >= 0) w.set(key, GgufValue::of_u32(uint32_t(v)));
  };
  id("tokenizer.ggml.bos_token_id", s.bos_id);
  id("tokenizer.ggml.eos_token_id", s.eos_id);
  id("tokenizer.ggml.unknown_token_id", s.unk_id);
  id("tokenizer.ggml.padding_token_id", s.pad_id);
  w.set("tokenizer.ggml.add_bos_token", GgufValue::of_bool(s.add_bos));
  if (!s.chat_template.empty()) w.set("tokenizer.chat_template", GgufValue::of_str(s.chat_template));
}

}  // namespace radlads
