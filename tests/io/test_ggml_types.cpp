// ggml types: the type table, quantize->dequantize error bounds per type, and
// bit-exact agreement with gguf-py (tests/data/ggml_quants_golden.json, made by
// scripts/golden_ggml_quants.py).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <random>

#include "core/error.h"
#include "core/fp16.h"
#include "gguf_test_util.h"
#include "io/ggml_types.h"

namespace radlads {
namespace {

using test::bits;

const GgmlType kAllTypes[] = {
    GgmlType::F32,  GgmlType::F16,  GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
    GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q2_K, GgmlType::Q3_K,
    GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K, GgmlType::I8,
    GgmlType::I16,  GgmlType::I32,  GgmlType::I64,  GgmlType::F64,  GgmlType::BF16,
    GgmlType::IQ4_NL, GgmlType::IQ4_XS,
};

nlohmann::json load_golden() {
  std::ifstream in(test::data_path("ggml_quants_golden.json"));
  EXPECT_TRUE(in.good()) << "missing tests/data/ggml_quants_golden.json "
                            "(python3 scripts/golden_ggml_quants.py makes it)";
  return nlohmann::json::parse(in);
}

TEST(GgmlTypes, NamesRoundTripAndMatchGgml) {
  for (GgmlType t : kAllTypes) {
    EXPECT_TRUE(ggml_type_valid(uint32_t(t)));
    EXPECT_EQ(ggml_type_from_name(ggml_type_name(t)), t);
  }
  EXPECT_STREQ(ggml_type_name(GgmlType::Q4_K), "q4_K");
  EXPECT_STREQ(ggml_type_name(GgmlType::Q8_0), "q8_0");
  EXPECT_STREQ(ggml_type_name(GgmlType::BF16), "bf16");
  EXPECT_STREQ(ggml_type_name(GgmlType::F32), "f32");
  EXPECT_THROW(ggml_type_from_name("Q4_K"), Error);  // ggml's spelling is case-sensitive
  EXPECT_THROW(ggml_type_from_name("q4_2"), Error);
  // Ids ggml retired (4, 5: Q4_2, Q4_3) or that we do not know are invalid.
  int n_valid = 0;
  for (uint32_t t = 0; t < 64; ++t) n_valid += ggml_type_valid(t);
  EXPECT_EQ(n_valid, int(std::size(kAllTypes)));
  EXPECT_FALSE(ggml_type_valid(4));
  EXPECT_FALSE(ggml_type_valid(29));
  EXPECT_FALSE(ggml_type_valid(0xFFFFFFFF));
}

// Block sizes against gguf-py's table (Q8_1 is checked by hand: gguf-py keeps
// an old fp32 layout; ggml's block_q8_1 is fp16 d, fp16 s, 32 int8 = 36).
TEST(GgmlTypes, BlockSizesMatchGgufPy) {
  const nlohmann::json g = load_golden();
  ASSERT_EQ(g["sizes"].size(), std::size(kAllTypes) - 1);
  for (const auto& s : g["sizes"]) {
    const auto t = GgmlType(s["type"].get<uint32_t>());
    EXPECT_EQ(ggml_block_elems(t), s["block_elems"].get<int64_t>()) << ggml_type_name(t);
    EXPECT_EQ(ggml_block_bytes(t), s["block_bytes"].get<size_t>()) << ggml_type_name(t);
  }
  EXPECT_EQ(ggml_block_elems(GgmlType::Q8_1), 32);
  EXPECT_EQ(ggml_block_bytes(GgmlType::Q8_1), 36u);
}

TEST(GgmlTypes, RowBytes) {
  EXPECT_EQ(ggml_row_bytes(GgmlType::F32, 7), 28u);
  EXPECT_EQ(ggml_row_bytes(GgmlType::Q8_0, 64), 68u);
  EXPECT_EQ(ggml_row_bytes(GgmlType::Q4_1, 576), 18u * 20u);
  EXPECT_EQ(ggml_row_bytes(GgmlType::Q4_K, 512), 288u);
  EXPECT_EQ(ggml_row_bytes(GgmlType::Q6_K, 256), 210u);
  EXPECT_THROW(ggml_row_bytes(GgmlType::Q8_0, 33), Error);
  EXPECT_THROW(ggml_row_bytes(GgmlType::Q4_K, 128), Error);
}

TEST(GgmlTypes, CapabilityLists) {
  for (GgmlType t : kAllTypes) {
    const bool integer_or_f64 = t == GgmlType::I8 || t == GgmlType::I16 || t == GgmlType::I32 ||
                                t == GgmlType::I64 || t == GgmlType::F64;
    const bool deq = !integer_or_f64 && t != GgmlType::Q8_1 && t != GgmlType::Q8_K;
    const bool q = t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16 || t == GgmlType::Q8_0 ||
                   t == GgmlType::Q4_0 || t == GgmlType::Q4_1;
    EXPECT_EQ(ggml_can_dequantize(t), deq) << ggml_type_name(t);
    EXPECT_EQ(ggml_can_quantize(t), q) << ggml_type_name(t);
  }
}

// Every dequantized value equals gguf-py's bit for bit: both follow ggml's
// reference arithmetic (fp16 scale widened to fp32, one rounding per
// operation), so no tolerance is needed.
TEST(GgmlQuantGolden, DequantizeMatchesGgufPyExactly) {
  const nlohmann::json g = load_golden();
  int checked_types = 0;
  for (const auto& rec : g["dequant"]) {
    const auto t = GgmlType(rec["type"].get<uint32_t>());
    const int64_t n = rec["n"].get<int64_t>();
    const std::vector<uint8_t> raw = test::from_hex(rec["raw"]);
    const std::vector<float> want = test::floats_from_hex(rec["out"]);
    ASSERT_EQ(raw.size(), ggml_row_bytes(t, n)) << ggml_type_name(t);
    ASSERT_EQ(want.size(), size_t(n));
    std::vector<float> got(static_cast<size_t>(n));
    dequantize_row(t, raw.data(), got.data(), n);
    int bad = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (bits(got[size_t(i)]) != bits(want[size_t(i)]) && bad++ < 5)
        ADD_FAILURE() << ggml_type_name(t) << " element " << i << ": got " << got[size_t(i)]
                      << " want " << want[size_t(i)];
    }
    EXPECT_EQ(bad, 0) << ggml_type_name(t);
    ++checked_types;
  }
  EXPECT_EQ(checked_types, 15);  // F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q4_K Q6_K Q5_0 Q5_1 Q2_K Q3_K Q5_K IQ4_NL IQ4_XS
}

// gguf-py's quantizers mirror ggml's quantize_row_*_ref (Q8_0 says so; Q4_0,
// Q4_1, BF16 follow the same formulas; F16 is numpy's round-to-nearest-even),
// so every byte must match.
TEST(GgmlQuantGolden, QuantizeMatchesGgufPyExactly) {
  const nlohmann::json g = load_golden();
  int checked_types = 0;
  for (const auto& rec : g["quant"]) {
    const auto t = GgmlType(rec["type"].get<uint32_t>());
    const int64_t n = rec["n"].get<int64_t>();
    const std::vector<float> in = test::floats_from_hex(rec["in"]);
    const std::vector<uint8_t> want = test::from_hex(rec["out"]);
    ASSERT_EQ(in.size(), size_t(n));
    const std::vector<uint8_t> got = quantize_row(t, in.data(), n);
    ASSERT_EQ(got.size(), want.size()) << ggml_type_name(t);
    const size_t bb = ggml_block_bytes(t);
    int bad = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      if (got[i] != want[i] && bad++ < 5)
        ADD_FAILURE() << ggml_type_name(t) << " byte " << i << " (block " << i / bb
                      << "): got " << int(got[i]) << " want " << int(want[i]);
    }
    EXPECT_EQ(bad, 0) << ggml_type_name(t);
    ++checked_types;
  }
  EXPECT_EQ(checked_types, 5);  // Q8_0 Q4_0 Q4_1 F16 BF16
}

// Random blocks at very different scales, including a sign-skewed one.
std::vector<float> random_row(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t b = 0; b < n / 32; ++b) {
    const float scale = std::pow(10.0f, float(int(b % 9) - 5));  // 1e-5 .. 1e3
    for (int j = 0; j < 32; ++j) x[size_t(b * 32 + j)] = scale * normal(rng) + (b % 4 == 3 ? 2 * scale : 0);
  }
  return x;
}

// quantize -> dequantize error per block stays within what the format can
// represent: half a step, plus a full step where ggml's reference clamps the
// top code (Q4_0's +8 maps to 7), plus the fp16 rounding of the stored scale
// and min times the largest code (fp16 rounds with relative error 2^-11, or
// absolute 2^-25 among subnormals, which the 1e-5-scale blocks reach). A 1%
// slack covers fp32 rounding in the arithmetic.
TEST(GgmlQuantRoundTrip, ErrorWithinFormatBounds) {
  const int64_t n = 32 * 90;
  const std::vector<float> x = random_row(n, 7);
  const float h = std::ldexp(1.0f, -11);  // fp16 relative rounding
  auto f16err = [&](float v) { return std::fabs(v) * h + std::ldexp(1.0f, -25); };
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0,
                     GgmlType::Q4_0, GgmlType::Q4_1}) {
    const std::vector<uint8_t> q = quantize_row(t, x.data(), n);
    ASSERT_EQ(q.size(), ggml_row_bytes(t, n));
    std::vector<float> y(static_cast<size_t>(n));
    dequantize_row(t, q.data(), y.data(), n);
    for (int64_t b = 0; b < n / 32; ++b) {
      float amax = 0, lo = INFINITY, hi = -INFINITY;
      for (int j = 0; j < 32; ++j) {
        const float v = x[size_t(b * 32 + j)];
        amax = std::max(amax, std::fabs(v));
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      for (int j = 0; j < 32; ++j) {
        const size_t i = size_t(b * 32 + j);
        const float err = std::fabs(y[i] - x[i]);
        float bound = 0;
        switch (t) {
          case GgmlType::F32: bound = 0; break;
          case GgmlType::F16: bound = std::fabs(x[i]) * h + 6e-8f; break;  // + fp16 subnormal step
          case GgmlType::BF16: bound = std::fabs(x[i]) * std::ldexp(1.0f, -8); break;
          case GgmlType::Q8_0: bound = amax / 127 * 0.5f + 127 * f16err(amax / 127); break;
          case GgmlType::Q4_0: bound = amax / 8 + 8 * f16err(amax / 8); break;
          case GgmlType::Q4_1: bound = (hi - lo) / 15 * 0.5f + 15 * f16err((hi - lo) / 15) + f16err(lo); break;
          default: break;
        }
        ASSERT_LE(err, bound * 1.01f + 1e-30f)
            << ggml_type_name(t) << " block " << b << " x=" << x[i] << " y=" << y[i];
      }
    }
  }
}

// Error bounds alone would accept a coarse quantizer; the RMS error over a
// unit-normal row pins each type near its expected accuracy, so swapping
// nibble halves or dropping the min would fail.
TEST(GgmlQuantRoundTrip, RmsErrorIsTypical) {
  const int64_t n = 32 * 256;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = normal(rng);
  const struct {
    GgmlType t;
    double max_rms;
  } cases[] = {{GgmlType::F16, 3e-4}, {GgmlType::BF16, 3e-3}, {GgmlType::Q8_0, 0.012},
               {GgmlType::Q4_0, 0.15}, {GgmlType::Q4_1, 0.12}};
  for (const auto& c : cases) {
    const std::vector<uint8_t> q = quantize_row(c.t, x.data(), n);
    std::vector<float> y(static_cast<size_t>(n));
    dequantize_row(c.t, q.data(), y.data(), n);
    double se = 0;
    for (int64_t i = 0; i < n; ++i) se += double(y[size_t(i)] - x[size_t(i)]) * (y[size_t(i)] - x[size_t(i)]);
    EXPECT_LT(std::sqrt(se / double(n)), c.max_rms) << ggml_type_name(c.t);
  }
}

// Hand-checked blocks: catch layout mistakes independently of any oracle.
TEST(GgmlQuantRoundTrip, HandBuiltBlocks) {
  // Q4_1 with d = 0.5, m = -1: nibble k of byte j is element j (low) / j+16 (high).
  std::vector<uint8_t> b(20);
  const uint16_t d = f32_to_f16(0.5f), m = f32_to_f16(-1.0f);
  std::memcpy(b.data(), &d, 2);
  std::memcpy(b.data() + 2, &m, 2);
  for (int j = 0; j < 16; ++j) b[size_t(4 + j)] = uint8_t(j | ((15 - j) << 4));
  std::vector<float> y(32);
  dequantize_row(GgmlType::Q4_1, b.data(), y.data(), 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[size_t(j)], 0.5f * float(j) - 1.0f);
    EXPECT_EQ(y[size_t(j + 16)], 0.5f * float(15 - j) - 1.0f);
  }
  // Q8_0 of [127, -127, 0.5, ...]: d = 1, codes are the rounded values.
  std::vector<float> x(32, 0.0f);
  x[0] = 127;
  x[1] = -127;
  x[2] = 0.5f;   // ties round away from zero, as roundf does
  x[3] = -2.5f;
  const std::vector<uint8_t> q = quantize_row(GgmlType::Q8_0, x.data(), 32);
  EXPECT_EQ(f16_to_f32(uint16_t(q[0] | q[1] << 8)), 1.0f);
  EXPECT_EQ(int8_t(q[2]), 127);
  EXPECT_EQ(int8_t(q[3]), -127);
  EXPECT_EQ(int8_t(q[4]), 1);
  EXPECT_EQ(int8_t(q[5]), -3);
}

}  // namespace
}  // namespace radlads
