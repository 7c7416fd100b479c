// Linear layers on packed frozen weights (backend/cpu/packed_matmul.h,
// Backend::frozen_weights) against an independent path: the weight decoded by
// io's reference dequantizers (checked against gguf-py's in test_ggml_quants)
// or core's half conversions, then multiplied in double (with the inputs
// quantized to Q8_0 the same way where the kernel does). On every kernel set
// this CPU supports, for the row-streaming kernel (M ≤ 8) and the
// decode-and-sgemm path (M > 8).
#include <omp.h>

#include <cstring>

#include "backend/backend.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/packed_matmul.h"
#include "core/cpu.h"
#include "core/fp16.h"
#include "io/ggml_types.h"
#include "test_util.h"

namespace radlads {
using namespace test;

namespace {

constexpr WeightFormat kFormats[] = {WeightFormat::F32, WeightFormat::F16, WeightFormat::BF16, WeightFormat::Q8_0,
                                     WeightFormat::Q4_0};

// The weight as the format holds it, decoded without the kernels under test.
std::vector<float> reference_decode(const std::vector<uint8_t>& packed, WeightFormat f, int64_t OC, int64_t C) {
  std::vector<float> out(size_t(OC * C));
  const size_t rb = weight_format_row_bytes(f, C);
  for (int64_t o = 0; o < OC; o++) {
    const uint8_t* row = packed.data() + rb * size_t(o);
    float* dst = out.data() + o * C;
    switch (f) {
      case WeightFormat::F32: std::memcpy(dst, row, rb); break;
      case WeightFormat::F16:
      case WeightFormat::BF16:
        for (int64_t c = 0; c < C; c++) {
          uint16_t h;
          std::memcpy(&h, row + 2 * c, 2);
          dst[c] = f == WeightFormat::F16 ? f16_to_f32(h) : bf16_to_f32(h);
        }
        break;
      case WeightFormat::Q8_0: dequantize_row(GgmlType::Q8_0, row, dst, C); break;
      case WeightFormat::Q4_0: dequantize_row(GgmlType::Q4_0, row, dst, C); break;
    }
  }
  return out;
}

// The inputs the kernels multiply: Q8_0 and Q4_0 weights meet rows quantized
// to Q8_0 (io's reference quantizer, round-tripped) up to kPackedStreamRowsMax rows.
std::vector<float> kernel_inputs(const std::vector<float>& x, WeightFormat f, int64_t M) {
  if (M > kPackedStreamRowsMax || (f != WeightFormat::Q8_0 && f != WeightFormat::Q4_0)) return x;
  std::vector<float> out(x.size());
  const std::vector<uint8_t> q = quantize_row(GgmlType::Q8_0, x.data(), int64_t(x.size()));
  dequantize_row(GgmlType::Q8_0, q.data(), out.data(), int64_t(x.size()));
  return out;
}

std::vector<uint8_t> packed(const std::vector<float>& w, WeightFormat f, int64_t OC, int64_t C) {
  std::vector<uint8_t> p(weight_format_row_bytes(f, C) * size_t(OC));
  pack_weight(p.data(), w.data(), f, OC, C);
  return p;
}

}  // namespace

TEST(PackedMatmul, MatchesDequantizedDoubleOracleOnEveryIsaFormatAndRowCount) {
  IsaRestore restore;
  for (WeightFormat f : kFormats)
    for (auto [C, OC] : {std::pair{64, 17}, std::pair{96, 100}, std::pair{576, 40}, std::pair{65, 33}}) {
      if (C % weight_format_block(f) != 0) continue;  // the quantized formats need whole blocks
      const auto w = randn(size_t(OC * C), 11, 0.1f), b = randn(size_t(OC), 12);
      const auto p = packed(w, f, OC, C);
      const auto wd = reference_decode(p, f, OC, C);
      for (int M : {1, 2, 5, 8, 9, 16, 17, 40}) {
        const auto x = randn(size_t(M * C), 13 + uint64_t(M));
        std::vector<float> oracle(size_t(M * OC));
        matmul_forward_naive(oracle.data(), kernel_inputs(x, f, M).data(), wd.data(), b.data(), M, C, OC);
        for (Isa isa : supported_isas()) {
          set_isa(isa);
          std::vector<float> got(oracle.size());
          packed_matmul_forward(got.data(), x.data(), p.data(), f, b.data(), M, C, OC);
          EXPECT_LT(rel_err(got, oracle), 2e-6) << weight_format_name(f) << " M=" << M << " C=" << C << " OC=" << OC
                                                << " " << isa_name(isa);
        }
      }
    }
}

TEST(PackedMatmul, DecodeIsBitExactWithTheReferenceDequantizers) {
  IsaRestore restore;
  const int64_t OC = 37, C = 160;
  const auto w = randn(size_t(OC * C), 21, 0.05f);
  for (WeightFormat f : kFormats) {
    const auto p = packed(w, f, OC, C);
    const auto ref = reference_decode(p, f, OC, C);
    for (Isa isa : supported_isas()) {
      set_isa(isa);
      std::vector<float> got(size_t((OC - 3) * C));
      packed_decode_rows(got.data(), p.data(), f, C, 3, OC);
      EXPECT_EQ(0, std::memcmp(got.data(), ref.data() + 3 * C, got.size() * sizeof(float)))
          << weight_format_name(f) << " " << isa_name(isa);
    }
  }
}

TEST(PackedMatmul, RowStreamingResultDoesNotDependOnThreadCount) {
  const int64_t OC = 300, C = 256;
  const auto w = randn(size_t(OC * C), 31, 0.1f), x = randn(size_t(3 * C), 32);
  const int nt = omp_get_max_threads();
  for (WeightFormat f : kFormats) {
    const auto p = packed(w, f, OC, C);
    std::vector<float> one(size_t(3 * OC)), many(one.size());
    omp_set_num_threads(1);
    packed_matmul_forward(one.data(), x.data(), p.data(), f, nullptr, 3, C, OC);
    omp_set_num_threads(std::max(2, nt));
    packed_matmul_forward(many.data(), x.data(), p.data(), f, nullptr, 3, C, OC);
    omp_set_num_threads(nt);
    EXPECT_EQ(0, std::memcmp(one.data(), many.data(), one.size() * sizeof(float))) << weight_format_name(f);
  }
}

TEST(FrozenWeights, PacksOnFirstUseRoutesOnlyMatmulsAndReleasesSources) {
  const int64_t C = 128, OC = 4096;  // 2 MB of fp32: whole pages to release
  auto w = randn(size_t(OC * C), 41, 0.1f);
  const auto keep = randn(size_t(OC * C), 42, 0.1f);
  const auto x = randn(size_t(C), 43);
  std::vector<float> before(static_cast<size_t>(OC)), after(static_cast<size_t>(OC)), kept_out(static_cast<size_t>(OC)), kept_ref(static_cast<size_t>(OC));
  auto frozen = cpu_backend().frozen_weights(WeightFormat::Q8_0, /*pack_on_first_use=*/true);
  EXPECT_EQ(frozen->format(), WeightFormat::Q8_0);
  const Backend& be = frozen->backend();
  be.matmul_forward(before.data(), x.data(), w.data(), nullptr, 1, C, OC);
  be.matmul_forward(kept_out.data(), x.data(), keep.data(), nullptr, 1, C, OC);
  EXPECT_EQ(frozen->weights(), 2u);
  EXPECT_EQ(frozen->bytes(), 2 * weight_format_row_bytes(WeightFormat::Q8_0, C) * size_t(OC));
  // The result is the Q8_0 weight's, not the fp32 one's.
  const auto wd = reference_decode(packed(w, WeightFormat::Q8_0, OC, C), WeightFormat::Q8_0, OC, C);
  std::vector<float> oracle(static_cast<size_t>(OC)), f32(static_cast<size_t>(OC));
  matmul_forward_naive(oracle.data(), kernel_inputs(x, WeightFormat::Q8_0, 1).data(), wd.data(), nullptr, 1, C, OC);
  matmul_forward_naive(f32.data(), x.data(), w.data(), nullptr, 1, C, OC);
  EXPECT_LT(rel_err(before, oracle), 2e-6);
  EXPECT_GT(rel_err(before, f32), 1e-4) << "the Q8_0 copy was not used";
  // Releasing the fp32 sources: the kept one stays readable, the other reads
  // zeros (its pages went back to the system), and the products are unchanged.
  const float* keep_list[] = {keep.data()};
  const size_t freed = frozen->release_sources(keep_list, 1);
  EXPECT_GE(freed, size_t(OC * C) * sizeof(float) - 2 * 4096);
  EXPECT_LE(freed, size_t(OC * C) * sizeof(float));
  EXPECT_EQ(w[size_t(OC * C / 2)], 0.0f);
  be.matmul_forward(after.data(), x.data(), w.data(), nullptr, 1, C, OC);
  EXPECT_EQ(0, std::memcmp(before.data(), after.data(), before.size() * sizeof(float)));
  matmul_forward_naive(kept_ref.data(), x.data(), keep.data(), nullptr, 1, C, OC);
  EXPECT_GT(std::abs(keep[size_t(OC * C / 2)]), 0.0f);
  // A frozen set that does not pack on first use leaves unknown weights fp32.
  auto explicit_set = cpu_backend().frozen_weights(WeightFormat::Q4_0);
  std::vector<float> plain(static_cast<size_t>(OC));
  explicit_set->backend().matmul_forward(plain.data(), x.data(), keep.data(), nullptr, 1, C, OC);
  EXPECT_EQ(explicit_set->weights(), 0u);
  EXPECT_LT(rel_err(plain, kept_ref), 1e-5);
  // A row the format cannot hold is refused with the shape.
  EXPECT_THROW(explicit_set->add(keep.data(), 1, 33), Error);
}

}  // namespace radlads
