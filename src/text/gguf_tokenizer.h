// TokenizerSpec from GGUF tokenizer.ggml.* metadata, and load_tokenizer(),
// which picks GGUF or an HF folder by the path.
#pragma once

#include <string>

#include "text/tokenizer.h"
#include "text/tokenizer_spec.h"

namespace radlads {

class GgufFile;

// Reads tokenizer.ggml.{model,pre,tokens,token_type,merges,bos_token_id,
// eos_token_id,unknown_token_id,padding_token_id,add_bos_token} and
// tokenizer.chat_template. Like llama.cpp at load time, the control-looking
// tokens it promotes (<|im_end|>, <|eot_id|>, <|endoftext|>, FIM tokens, ...)
// become CONTROL if the file typed them otherwise, and a missing pre name
// means "default". Throws Error "<path>: ..." (unsupported model or pre).
TokenizerSpec tokenizer_spec_from_gguf(const GgufFile& f);

// A path ending in .gguf (or any regular file) -> from GGUF; a directory ->
// from HF tokenizer.json. Errors are prefixed with the path.
Tokenizer load_tokenizer(const std::string& path);

}  // namespace radlads
