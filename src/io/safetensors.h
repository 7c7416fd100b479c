// HF safetensors files: memory-mapped reader (F32/F16/BF16 into fp32 tensors),
// sharded folders via model.safetensors.index.json, and an atomic writer.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/file_io.h"
#include "core/tensor.h"

namespace radlads {

enum class StDtype { F32, F16, BF16 };
const char* st_dtype_name(StDtype d);           // "F32", "F16", "BF16"
StDtype st_dtype_from_name(const std::string& s, const std::string& path);  // throws Error

struct StTensorInfo {
  std::string name;
  StDtype dtype;
  Shape shape;
  size_t begin = 0, end = 0;  // byte range inside the data section
};

class SafetensorsFile {
 public:
  // Validates header length, JSON, dtypes, shapes and that every tensor's byte
  // range lies inside the file and matches its shape. Throws Error naming path.
  explicit SafetensorsFile(const std::string& path);
  const std::string& path() const { return file_->path(); }
  const std::vector<StTensorInfo>& tensors() const { return tensors_; }
  const StTensorInfo* find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return meta_; }
  Tensor load_f32(const StTensorInfo& t) const;
  // Elements [first, first+count) of an F32 tensor into dst (a shard of it).
  void read_f32(const StTensorInfo& t, int64_t first, int64_t count, float* dst) const;

 private:
  std::shared_ptr<MappedFile> file_;
  std::vector<StTensorInfo> tensors_;
  std::map<std::string, std::string> meta_;
  size_t data_start_ = 0;
};

// All tensors of an HF folder: model.safetensors, or the shards listed by
// model.safetensors.index.json. Tensor names must be unique across shards.
// dtype_counts, when given, receives the number of tensors per dtype name.
std::map<std::string, Tensor> load_safetensors_dir(const std::string& dir,
                                                   std::map<std::string, int64_t>* dtype_counts = nullptr);

// Writes tensors (in the given order) converted to dtype. Atomic.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, TensorView>>& tensors,
                       StDtype dtype, const std::map<std::string, std::string>& metadata = {});
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                       StDtype dtype, const std::map<std::string, std::string>& metadata = {});

// F32 tensors written one at a time: fill(i, dst) puts tensor i's elements
// into dst (a buffer of its size, reused), so no more than one tensor is in
// memory (a sharded optimiser state streamed to rank 0). Atomic.
void write_safetensors_f32(const std::string& path, const std::vector<std::pair<std::string, Shape>>& specs,
                           const std::function<void(size_t, float*)>& fill);

}  // namespace radlads
