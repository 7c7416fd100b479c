// Arenas (core/arena.h): one allocation laid out from a table, aligned views,
// deep copies, and the flat loops' promise (padding is zero).
#include <gtest/gtest.h>

#include <cstdint>

#include "core/arena.h"

namespace radlads {
namespace {

TEST(Arena, LaysOutATableInOneAlignedAllocation) {
  Arena a({{"w", {3, 5}}, {"b", {7}}, {"ids", {4}, DType::I32}, {"h", {33}, DType::BF16}});
  ASSERT_EQ(a.size(), 4u);
  size_t want_bytes = 0;
  for (size_t i = 0; i < a.size(); i++) {
    const TensorView v = a.view(i);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data) % 64, 0u) << a.name(i);
    EXPECT_EQ(static_cast<char*>(v.data) - static_cast<char*>(a.data()), int64_t(want_bytes)) << a.name(i);
    want_bytes += (size_t(v.numel()) * dtype_size(v.dtype) + 63) / 64 * 64;
  }
  EXPECT_EQ(a.bytes(), want_bytes);
  EXPECT_EQ(a.index("b"), 1);
  EXPECT_EQ(a.index("nope"), -1);
  EXPECT_EQ(a.find("nope"), nullptr);
  EXPECT_EQ(a.find("b"), a.f32(1));
  EXPECT_EQ(a.view(2).dtype, DType::I32);
  for (int64_t i = 0; i < a.flat_numel(); i++) ASSERT_EQ(a.flat()[i], 0.0f) << "zero-filled";
}

TEST(Arena, CopiesDeeplyAndComparesLayouts) {
  Arena a({{"x", {10}}, {"y", {2, 3}}});
  for (int i = 0; i < 10; i++) a.at("x")[i] = float(i);
  Arena b = a;
  EXPECT_NE(b.data(), a.data());
  EXPECT_TRUE(b.same_layout(a));
  b.at("x")[3] = -1.0f;
  EXPECT_EQ(a.at("x")[3], 3.0f);
  EXPECT_EQ(b.at("x")[4], 4.0f);
  EXPECT_FALSE(a.same_layout(Arena({{"x", {10}}, {"y", {3, 2}}})));
  a.zero();
  for (int64_t i = 0; i < a.flat_numel(); i++) ASSERT_EQ(a.flat()[i], 0.0f);
}

// Without the zero fill (a model's parameters, written right after) the
// padding is still zero, so flat loops over the arena stay exact.
TEST(Arena, PaddingIsZeroWithoutTheFill) {
  Arena a({{"x", {3}}, {"y", {5}}, {"z", {1}}}, Device::Cpu, /*zero_fill=*/false);
  const char* base = static_cast<const char*>(a.data());
  for (size_t i = 0; i < a.size(); i++) {
    const size_t begin = size_t(static_cast<const char*>(a.view(i).data) - base) + size_t(a.numel(i)) * 4;
    const size_t end = i + 1 < a.size() ? size_t(static_cast<const char*>(a.view(i + 1).data) - base) : a.bytes();
    for (size_t b = begin; b < end; b++) ASSERT_EQ(base[b], 0) << "padding after " << a.name(i) << " at " << b;
  }
}

TEST(Arena, EmptyArenaHasNothing) {
  Arena e;
  EXPECT_EQ(e.size(), 0u);
  EXPECT_EQ(e.bytes(), 0u);
  EXPECT_EQ(e.find("x"), nullptr);
  Arena f(std::vector<TensorSpec>{});
  EXPECT_EQ(f.bytes(), 0u);
}

}  // namespace
}  // namespace radlads
