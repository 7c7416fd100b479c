// Linear layers on weights in their stored ggml type (backend/cpu/
// stored_matmul.h) against io's reference dequantizers (themselves checked
// bit for bit against gguf-py in tests/io): the vector decoders give the same
// bits, and the products equal a double-precision product of the dequantized
// weight, for every type, the row-streaming path (M ≤ 16) and the
// decode-and-sgemm one (M > 16). Weights are random bytes with valid fp16
// scales, so every code and every packed 6-bit scale occurs.
#include <omp.h>

#include <cstring>
#include <random>

#include "backend/cpu/matmul.h"
#include "backend/cpu/packed_matmul.h"
#include "backend/cpu/stored_matmul.h"
#include "core/fp16.h"
#include "io/ggml_types.h"
#include "test_util.h"

namespace radlads {
using namespace test;

namespace {

// Types with a vector decoder, then types that fall back to dequantize_row.
constexpr GgmlType kStreamed[] = {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
                                  GgmlType::Q5_1, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
constexpr GgmlType kOthers[] = {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::IQ4_NL, GgmlType::F16, GgmlType::BF16};

// Byte offsets of each block's fp16 scales (ggml-common.h's block structs).
std::vector<size_t> half_offsets(GgmlType t) {
  switch (t) {
    case GgmlType::Q8_0: case GgmlType::Q4_0: case GgmlType::Q5_0: case GgmlType::IQ4_NL: return {0};
    case GgmlType::Q4_1: case GgmlType::Q5_1: case GgmlType::Q4_K: case GgmlType::Q5_K: return {0, 2};
    case GgmlType::Q6_K: return {208};
    case GgmlType::Q2_K: return {80, 82};
    case GgmlType::Q3_K: return {108};
    default: return {};
  }
}

// OC rows of C elements: random bytes, every fp16 scale set to a random
// value of about 1e-2 (the float types: every element a random half).
std::vector<uint8_t> random_weight(GgmlType t, int64_t OC, int64_t C, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> w(ggml_row_bytes(t, C) * size_t(OC));
  for (uint8_t& b : w) b = uint8_t(rng());
  std::normal_distribution<float> n(0.0f, 0.01f);
  const bool half = t == GgmlType::F16 || t == GgmlType::BF16;
  const size_t bb = half ? 2 : ggml_block_bytes(t);
  for (size_t blk = 0; blk < w.size() / bb; blk++)
    for (size_t off : half ? std::vector<size_t>{0} : half_offsets(t)) {
      const float v = half ? n(rng) * 10.0f : n(rng);
      const uint16_t h = t == GgmlType::BF16 ? f32_to_bf16(v) : f32_to_f16(v);
      std::memcpy(w.data() + blk * bb + off, &h, 2);
    }
  return w;
}

std::vector<float> reference_decode(const std::vector<uint8_t>& w, GgmlType t, int64_t OC, int64_t C) {
  std::vector<float> out(size_t(OC * C));
  for (int64_t o = 0; o < OC; o++) dequantize_row(t, w.data() + ggml_row_bytes(t, C) * size_t(o), out.data() + o * C, C);
  return out;
}

}  // namespace

TEST(StoredMatmul, VectorDecodersAreBitExactWithTheReferenceDequantizers) {
  for (GgmlType t : kStreamed) {
    EXPECT_TRUE(stored_type_streamed(t)) << ggml_type_name(t);
    const int64_t OC = 23, C = 512;
    const auto w = random_weight(t, OC, C, 7);
    const auto ref = reference_decode(w, t, OC, C);
    std::vector<float> got(size_t((OC - 2) * C));
    stored_decode_rows(got.data(), w.data(), t, C, 2, OC);
    EXPECT_EQ(0, std::memcmp(got.data(), ref.data() + 2 * C, got.size() * sizeof(float))) << ggml_type_name(t);
    for (size_t i = 0; i < got.size(); i++) ASSERT_TRUE(std::isfinite(got[i])) << ggml_type_name(t);
  }
  for (GgmlType t : kOthers) EXPECT_FALSE(stored_type_streamed(t)) << ggml_type_name(t);
}

TEST(StoredMatmul, MatchesDoubleProductOfTheDequantizedWeightForEveryTypeAndRowCount) {
  std::vector<GgmlType> types(std::begin(kStreamed), std::end(kStreamed));
  types.insert(types.end(), std::begin(kOthers), std::end(kOthers));
  for (GgmlType t : types)
    for (auto [C, OC] : {std::pair{256, 37}, std::pair{768, 100}, std::pair{96, 33}}) {
      if (C % ggml_block_elems(t) != 0) continue;
      const auto w = random_weight(t, OC, C, 11 + uint64_t(C));
      const auto wd = reference_decode(w, t, OC, C);
      const auto b = randn(size_t(OC), 12);
      for (int M : {1, 2, 5, 8, 9, 16, 17, 40}) {
        const auto x = randn(size_t(M * C), 13 + uint64_t(M));
        std::vector<float> oracle(size_t(M * OC)), got(oracle.size());
        matmul_forward_naive(oracle.data(), x.data(), wd.data(), b.data(), M, C, OC);
        stored_matmul_forward(got.data(), x.data(), w.data(), t, b.data(), M, C, OC);
        EXPECT_LT(rel_err(got, oracle), 2e-6) << ggml_type_name(t) << " M=" << M << " C=" << C << " OC=" << OC;
      }
    }
}

// The integer kernels (quantize_inputs) equal the double product of the
// dequantized weight with the inputs as io's Q8_0 quantizer rounds them; more
// than kPackedStreamRowsMax rows keep fp32 inputs.
TEST(StoredMatmul, IntegerKernelsMatchTheDoubleProductWithInputsRoundedToQ8_0) {
  const GgmlType types[] = {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q4_K, GgmlType::Q6_K};
  for (GgmlType t : types) {
    EXPECT_TRUE(stored_type_integer(t)) << ggml_type_name(t);
    for (auto [C, OC] : {std::pair{256, 37}, std::pair{1536, 50}, std::pair{96, 33}}) {
      if (C % ggml_block_elems(t) != 0) continue;
      const auto w = random_weight(t, OC, C, 17 + uint64_t(C));
      const auto wd = reference_decode(w, t, OC, C);
      for (int M : {1, 3, 8, 9, 16, 17}) {
        const auto x = randn(size_t(M * C), 19 + uint64_t(M));
        std::vector<float> xr(x.size());
        const std::vector<uint8_t> q = quantize_row(GgmlType::Q8_0, x.data(), int64_t(x.size()));
        dequantize_row(GgmlType::Q8_0, q.data(), xr.data(), int64_t(x.size()));
        std::vector<float> oracle(size_t(M * OC)), got(oracle.size());
        matmul_forward_naive(oracle.data(), M <= kPackedStreamRowsMax ? xr.data() : x.data(), wd.data(), nullptr, M, C, OC);
        stored_matmul_forward(got.data(), x.data(), w.data(), t, nullptr, M, C, OC, /*quantize_inputs=*/true);
        EXPECT_LT(rel_err(got, oracle), 2e-6) << ggml_type_name(t) << " M=" << M << " C=" << C << " OC=" << OC;
      }
    }
  }
  for (GgmlType t : {GgmlType::Q4_1, GgmlType::Q5_K, GgmlType::Q2_K, GgmlType::F16})
    EXPECT_FALSE(stored_type_integer(t)) << ggml_type_name(t);
}

TEST(StoredMatmul, RowStreamingResultDoesNotDependOnThreadCount) {
  const int64_t OC = 300, C = 512;
  const auto x = randn(size_t(3 * C), 32);
  const int nt = omp_get_max_threads();
  for (GgmlType t : kStreamed) {
    const auto w = random_weight(t, OC, C, 31);
    for (bool integer : {false, true}) {
      std::vector<float> one(size_t(3 * OC)), many(one.size());
      omp_set_num_threads(1);
      stored_matmul_forward(one.data(), x.data(), w.data(), t, nullptr, 3, C, OC, integer);
      omp_set_num_threads(std::max(2, nt));
      stored_matmul_forward(many.data(), x.data(), w.data(), t, nullptr, 3, C, OC, integer);
      omp_set_num_threads(nt);
      EXPECT_EQ(0, std::memcmp(one.data(), many.data(), one.size() * sizeof(float))) << ggml_type_name(t) << integer;
    }
  }
}

}  // namespace radlads
