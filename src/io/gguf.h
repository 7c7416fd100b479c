// GGUF v2/v3 files: reader (memory-mapped, every metadata type, strict offset
// and alignment rules) and writer (atomic, byte-exact round trip).
// Shapes: GGUF stores ne[] fastest-first; this API speaks PyTorch order
// (reversed), so a Linear weight is [out,in] here as in safetensors.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/file_io.h"
#include "core/tensor.h"
#include "io/ggml_types.h"

namespace radlads {

enum class GgufType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* gguf_type_name(GgufType t);

// One metadata value. Scalars live in one of u/i/f/b/s by type; arrays keep
// their element type and their elements as GgufValues (nested arrays allowed).
struct GgufValue {
  GgufType type = GgufType::UINT32;
  GgufType elem_type = GgufType::UINT8;  // ARRAY only
  uint64_t u = 0;        // UINT8/16/32/64
  int64_t i = 0;         // INT8/16/32/64
  double f = 0;          // FLOAT32/64
  bool b = false;        // BOOL
  std::string s;         // STRING
  std::vector<GgufValue> arr;  // ARRAY

  static GgufValue of_str(std::string v);
  static GgufValue of_u32(uint32_t v);
  static GgufValue of_i32(int32_t v);
  static GgufValue of_u64(uint64_t v);
  static GgufValue of_f32(float v);
  static GgufValue of_bool(bool v);
  static GgufValue of_str_array(const std::vector<std::string>& v);
  static GgufValue of_i32_array(const std::vector<int32_t>& v);
  static GgufValue of_f32_array(const std::vector<float>& v);
};

struct GgufTensorInfo {
  std::string name;
  Shape shape;          // PyTorch order (GGUF ne reversed)
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;  // relative to the start of the data section
  size_t nbytes = 0;
};

using GgufMetadata = std::vector<std::pair<std::string, GgufValue>>;

class GgufFile {
 public:
  // Maps and validates the whole header: magic, version 2 or 3, counts that
  // fit in the file, known types, every tensor's bytes inside the data section
  // and aligned. Throws Error "<path>: <what is wrong>" on any violation.
  explicit GgufFile(const std::string& path);

  const std::string& path() const { return file_->path(); }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }

  const GgufMetadata& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;
  // Typed getters: throw Error "<path>: metadata <key>: missing" or
  // "...: expected <type>, found <type>". Integer getters accept any integer type.
  std::string get_str(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  double get_float(std::string_view key) const;  // accepts integers too
  bool get_bool(std::string_view key) const;
  std::vector<std::string> get_str_array(std::string_view key) const;
  std::vector<int64_t> get_int_array(std::string_view key) const;
  std::vector<double> get_float_array(std::string_view key) const;
  std::optional<std::string> opt_str(std::string_view key) const;
  std::optional<int64_t> opt_int(std::string_view key) const;
  std::optional<double> opt_float(std::string_view key) const;
  std::optional<bool> opt_bool(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  std::span<const uint8_t> tensor_bytes(const GgufTensorInfo& t) const;
  // Dequantized fp32 copy; throws Error for a type we cannot dequantize.
  Tensor load_f32(const GgufTensorInfo& t) const;

 private:
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  GgufMetadata kv_;
  std::vector<GgufTensorInfo> tensors_;
  size_t data_start_ = 0;
};

// Builds a GGUF v3 file. Metadata keeps insertion order; set() on an existing
// key replaces it in place. Tensor data is written in add order, each aligned
// to general.alignment (default 32).
class GgufWriter {
 public:
  void set(const std::string& key, GgufValue v);
  void remove(const std::string& key);
  // bytes must hold exactly ggml_row_bytes(type, shape.back()) * rows.
  void add_tensor(const std::string& name, GgmlType type, const Shape& shape,
                  std::vector<uint8_t> bytes);
  // Convenience: quantizes fp32 data to type.
  void add_tensor_f32(const std::string& name, GgmlType type, const Tensor& t);
  void write(const std::string& path) const;  // atomic

 private:
  struct Pending {
    std::string name;
    GgmlType type;
    Shape shape;
    std::vector<uint8_t> bytes;
  };
  GgufMetadata kv_;
  std::vector<Pending> tensors_;
};

}  // namespace radlads
