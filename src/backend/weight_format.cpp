// The frozen weights' formats (backend.h): names and row sizes. The block
// layouts are ggml's (io/ggml_types.h reads and writes them in files).
#include <array>

#include "backend/backend.h"
#include "core/error.h"

namespace radlads {

namespace {

struct FormatInfo {
  WeightFormat f;
  const char* name;
  int64_t block;       // elements per block
  size_t block_bytes;  // bytes per block
};

// Q8_0: fp16 scale + 32 int8 codes; Q4_0: fp16 scale + 16 bytes of nibbles.
constexpr std::array<FormatInfo, 5> kFormats = {{
    {WeightFormat::F32, "f32", 1, 4},
    {WeightFormat::F16, "f16", 1, 2},
    {WeightFormat::BF16, "bf16", 1, 2},
    {WeightFormat::Q8_0, "q8_0", 32, 34},
    {WeightFormat::Q4_0, "q4_0", 32, 18},
}};

const FormatInfo& info(WeightFormat f) { return kFormats[size_t(f)]; }

}  // namespace

const char* weight_format_name(WeightFormat f) { return info(f).name; }

WeightFormat weight_format_from_name(const std::string& s) {
  for (const FormatInfo& i : kFormats)
    if (s == i.name) return i.f;
  fail("unknown weight format '{}' (f32, f16, bf16, q8_0, q4_0)", s);
}

int64_t weight_format_block(WeightFormat f) { return info(f).block; }

size_t weight_format_row_bytes(WeightFormat f, int64_t C) {
  const FormatInfo& i = info(f);
  if (C % i.block != 0) fail("a {} row needs a multiple of {} elements, this one has {}", i.name, i.block, C);
  return size_t(C / i.block) * i.block_bytes;
}

}  // namespace radlads
