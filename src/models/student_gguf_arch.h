// Internal to the student GGUF writer/reader: the per-architecture halves
// (models/mixers/rad_rwkv6/gguf.cpp, models/mixers/rad_rwkv7/gguf.cpp) and what they share.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "io/gguf.h"
#include "models/model.h"

namespace radlads::student_gguf {

// The tensor type llama.cpp's converter would choose: F32 for vectors, biases,
// norms and the LoRA / token-shift tensors it lists as "always F32"
// (time_mix_w1/w2, decay_w1/w2, lerp_fused); dtype for other matrices, F16
// where a row does not fill whole quantization blocks.
GgmlType tensor_type(const std::string& gguf_name, const Shape& shape, GgmlType dtype);
void add(GgufWriter& w, const std::string& gguf_name, const Tensor& t, GgmlType dtype);

// [a, b] -> [b, a]; other leading dims of size 1 are dropped first.
Tensor transpose2d(const Tensor& t);
// A copy with a new shape of the same element count (CHECKed).
Tensor reshaped(const Tensor& t, Shape s);
// Loads a tensor by GGUF name, checking its shape (PyTorch order); throws Error naming file and tensor.
Tensor load(const GgufFile& f, const std::string& name, const Shape& shape);
std::string blk(int l, const char* leaf);  // "blk.<l>.<leaf>"
std::string attn(int l, const char* leaf);  // "model.layers.<l>.self_attn.<leaf>"

// Per architecture: why not expressible (""), the arch's metadata keys, every
// time-mix tensor of every layer (export) and their inverse (import).
std::string rwkv6_options_blocker(const TeacherConfig& c, const StudentOptions& o);
std::string rwkv6_blocker(const Model& m);
void rwkv6_write(GgufWriter& w, const Model& m, GgmlType dtype);
void rwkv6_read(const GgufFile& f, Model& m);
void rwkv6_config(const GgufFile& f, nlohmann::json& j);
std::string rwkv7_options_blocker(const TeacherConfig& c, const StudentOptions& o);
std::string rwkv7_blocker(const Model& m);
void rwkv7_write(GgufWriter& w, const Model& m, GgmlType dtype);
void rwkv7_read(const GgufFile& f, Model& m);
void rwkv7_config(const GgufFile& f, nlohmann::json& j);

}  // namespace radlads::student_gguf
