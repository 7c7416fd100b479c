// tokenizer.ggml.* metadata from a TokenizerSpec, so llama.cpp tokenizes an
// exported model exactly as we do.
#pragma once

#include "io/gguf.h"
#include "text/tokenizer_spec.h"

namespace radlads {

void add_tokenizer_metadata(GgufWriter& w, const TokenizerSpec& spec);

}  // namespace radlads
