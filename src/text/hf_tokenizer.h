// TokenizerSpec from a Hugging Face model folder: tokenizer.json (byte-level
// BPE) plus tokenizer_config.json (special tokens, add_bos, chat template).
#pragma once

#include <string>

#include "text/tokenizer_spec.h"

namespace radlads {

// Reads <dir>/tokenizer.json and, when present, <dir>/tokenizer_config.json
// (and <dir>/chat_template.jinja when the config has no template).
// Pre-tokenizers we recognise (qwen2, llama-bpe, smollm, gpt-2) get llama.cpp's
// name and regexes; other Split/Digits/ByteLevel sequences keep their regexes.
// Added tokens: special -> CONTROL, others -> USER_DEFINED. Ids missing from
// both vocab and added tokens become "[PAD<id>]" (UNUSED), as llama.cpp's
// converter does. Throws Error "<file>: <field>: <problem>".
// Known divergence from HF: an NFC normalizer is ignored (llama.cpp ignores it
// too); the lstrip/rstrip/single_word flags of added tokens are ignored.
TokenizerSpec tokenizer_spec_from_hf(const std::string& dir);

}  // namespace radlads
