// Writes a teacher as GGUF in llama.cpp's layout (names, permuted llama q/k),
// with all the source's metadata (or metadata made from config + tokenizer
// when the source is an HF folder).
#pragma once

#include <string>

#include "io/ggml_types.h"
#include "models/model.h"

namespace radlads {

// dtype applies to 2-D weights (F32, F16, BF16, Q8_0); norms and biases stay F32.
void export_teacher_gguf(const Model& m, const std::string& path, GgmlType dtype);


}  // namespace radlads
