// The in-memory tensor: fp32 data, row-major, shape in PyTorch order (a Linear
// weight is [out,in] as in HF safetensors). Every model in memory is fp32;
// quantized files are dequantized on load and re-quantized on export.
#pragma once

#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "core/float_buffer.h"

namespace radlads {

using Shape = std::vector<int64_t>;

inline int64_t numel(const Shape& s) {
  return std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<>());
}

std::string shape_str(const Shape& s);  // "[576, 49152]"

enum class DType : uint8_t { F32, BF16, F16, I32 };
enum class Device : uint8_t { Cpu, Cuda };
size_t dtype_size(DType t);
const char* dtype_name(DType t);

// A tensor somewhere in memory (an arena slice, a Tensor, a device buffer):
// no ownership.
struct TensorView {
  void* data = nullptr;
  Shape shape;
  DType dtype = DType::F32;
  Device device = Device::Cpu;
  int64_t numel() const { return radlads::numel(shape); }
  float* f32() const;  // CHECKs dtype F32
};

struct Tensor {
  Shape shape;
  FloatBuffer data;  // its own values, or a slice of its model's parameter arena

  Tensor() = default;
  explicit Tensor(Shape s) : shape(std::move(s)), data(size_t(radlads::numel(shape)), 0.0f) {}
  int64_t numel() const { return int64_t(data.size()); }
  int64_t dim(int i) const { return shape[size_t(i < 0 ? int(shape.size()) + i : i)]; }
  float* ptr() { return data.data(); }
  const float* ptr() const { return data.data(); }
  std::span<float> span() { return {data.data(), data.size()}; }
  std::span<const float> span() const { return {data.data(), data.size()}; }
  TensorView view() const { return TensorView{const_cast<float*>(data.data()), shape, DType::F32, Device::Cpu}; }
};

}  // namespace radlads
