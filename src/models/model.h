// A model in memory: config, fp32 weights under HF names in HF layout, the
// tokenizer, and the source's own metadata (kept so that export loses nothing).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

#include "core/arena.h"
#include "core/tensor.h"
#include "io/gguf.h"
#include "models/student_options.h"
#include "models/teacher_config.h"
#include "text/tokenizer_spec.h"

namespace radlads {

// A weight as its file stores it (models/stored_weights.h): rows × cols in
// ggml's row layout of type, in HF row order.
struct StoredWeight {
  GgmlType type = GgmlType::F32;
  int64_t rows = 0, cols = 0;
  std::vector<uint8_t> bytes;
};

struct Model {
  TeacherConfig cfg;             // sizes (a student keeps its teacher's)
  StudentOptions student;        // arch None for a teacher
  std::map<std::string, Tensor> weights;  // HF names and layout
  // The parameters' one allocation (pack_parameters): every tensor of weights
  // is a slice of it, laid out from the (name, shape) table in name order.
  // Null until packed; a copied Model owns copies of its weights instead.
  std::shared_ptr<Arena> params;
  TokenizerSpec tokenizer;
  std::string path;
  std::string format;          // "gguf" or "hf"
  GgufMetadata gguf_meta;      // the source GGUF's metadata (format == "gguf")
  nlohmann::json hf_config;    // the source config.json (format == "hf")
  std::map<std::string, int64_t> source_dtypes;  // tensor count per dtype in the source
  // A frozen teacher held in its stored precision (hold_teacher_stored): these
  // weights' fp32 values are gone (they read as zeros) and every Teacher runs
  // them from here.
  std::map<std::string, StoredWeight> stored;

  const Tensor& w(const std::string& name) const;  // throws Error naming path
  const Tensor* find(const std::string& name) const;
  int64_t n_params() const;  // counts a tied head once
};

// The one way every command opens a model: a teacher .gguf file, a student
// .gguf written by `radlads export` (rwkv6qwen2 / arwkv7), or an HF folder
// (config.json, safetensors, tokenizer.json; rwkv6qwen2 / rwkv7qwen2 in
// config.json makes it a student). Checks every tensor the architecture needs
// is present with the right shape.
Model open_model(const std::string& path);

// Moves every weight of m into one arena (m.params), in name order: one
// allocation for the parameters, whose tensors keep their names and shapes.
// open_model and init_student return packed models.
void pack_parameters(Model& m);

// Only the sizes of the model at path (GGUF metadata or config.json), without
// reading any weights.
TeacherConfig load_model_config(const std::string& path);

// Checks names and shapes of a teacher's weights; throws Error naming path.
void validate_teacher_weights(const Model& m);
// The names and shapes of a teacher with config c (HF names and layout).
std::map<std::string, Shape> teacher_weight_shapes(const TeacherConfig& c);
// A packed teacher of config c with N(0, 0.02) weights and unit norms, for
// benchmarks at a real model's shape without its file (bench_gpu_train).
Model random_teacher(const TeacherConfig& c, uint64_t seed);

// llama.cpp's converter permutes q/k rows of llama models so that its RoPE
// rotates adjacent pairs; these undo/redo it. Row h*N + 2i + j (GGUF) is row
// h*N + j*N/2 + i (HF). Works on weights [rows, in] and biases [rows].
void unpermute_qk_gguf_to_hf(Tensor& t, int n_heads);
// The same on n_rows encoded rows of row_bytes each (a quantized weight's blocks).
void unpermute_qk_rows_gguf_to_hf(uint8_t* rows, int64_t n_rows, size_t row_bytes, int n_heads);
void permute_qk_hf_to_gguf(Tensor& t, int n_heads);

}  // namespace radlads
