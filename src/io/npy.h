// NumPy .npy files (format 1.0, little-endian float32, C order): the exchange
// format for logits and golden values with Python tools.
#pragma once

#include <span>
#include <string>

#include "core/tensor.h"

namespace radlads {

void write_npy(const std::string& path, const Shape& shape, std::span<const float> data);  // atomic
Tensor read_npy(const std::string& path);  // '<f4' C-order only; throws Error naming path

}  // namespace radlads
