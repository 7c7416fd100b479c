// The inference commands' shared flag: --dtype, the format the linear layers'
// weights are held in (InferOptions, infer/language_model.h).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "infer/language_model.h"

namespace radlads::cli {

inline void add_dtype_flag(CLI::App& app, std::string& dtype) {
  app.add_option("--dtype", dtype,
                 "Linear-layer weights held as: f32 (as loaded), f16, bf16, q8_0, q4_0 (requantized at load), or "
                 "stored (a teacher's file blocks as they are, K-quants included; decoding meets q8_0/q4_0/q5_0/"
                 "q4_K/q6_K blocks with inputs quantized to q8_0, as llama.cpp does)")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0", "q4_0", "stored"}))
      ->capture_default_str();
}

inline InferOptions infer_options(const std::string& dtype) {
  InferOptions o;
  if (dtype == "stored") o.stored = true;
  else o.weights = weight_format_from_name(dtype);  // f32 too: decoding streams the rows (packed_matmul.h)
  return o;
}

}  // namespace radlads::cli
