// Small helpers for Tensor.
#include "core/tensor.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace radlads {

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

}  // namespace radlads
