// Small helpers for Tensor.
#include "core/tensor.h"

#include "core/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace radlads {

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::I32: return 4;
    case DType::BF16: return 2;
    case DType::F16: return 2;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::I32: return "i32";
    case DType::BF16: return "bf16";
    case DType::F16: return "f16";
  }
  return "?";
}

float* TensorView::f32() const {
  CHECK(dtype == DType::F32, "an f32 view of a {} tensor", dtype_name(dtype));
  return static_cast<float*>(data);
}

}  // namespace radlads
