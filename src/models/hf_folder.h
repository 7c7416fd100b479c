// Writes a model as an HF folder: config.json (the teacher's own, or the
// student's with the reference's names), model.safetensors, tokenizer.json and
// tokenizer_config.json. The folder is built beside the target and renamed
// into place, so a failure never leaves a half-written model.
#pragma once

#include <string>

#include "io/safetensors.h"
#include "models/model.h"

namespace radlads {

void save_model_hf(const Model& m, const std::string& dir, StDtype dtype = StDtype::F32);

// tokenizer.json + tokenizer_config.json for a TokenizerSpec (byte-level BPE).
void write_hf_tokenizer(const TokenizerSpec& spec, const std::string& dir);

}  // namespace radlads
