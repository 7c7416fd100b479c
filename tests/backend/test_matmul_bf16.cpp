// bf16 linear layers (backend/cpu/matmul_bf16.h, Backend::frozen_weights(BF16)): against a double-precision
// oracle on the same bf16-rounded inputs (fp32 inputs up to kPackedStreamRowsMax rows: the row-streaming kernel) and weights (only the fp32 accumulation order
// differs), and against fp32 (the rounding itself, ~2^-8 relative per input).
#include <cmath>

#include "backend/backend.h"
#include "core/fp16.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/matmul_bf16.h"
#include "backend/cpu/packed_matmul.h"
#include "test_util.h"

namespace radlads {
using namespace test;

namespace {
float round_bf16(float x) { return bf16_to_f32(f32_to_bf16(x)); }
}  // namespace

TEST(MatmulBf16, MatchesOracleOnRoundedInputsAndFrozenBackendRoutesOnlyItsWeights) {
  for (auto [M, C, OC] : {std::tuple{1, 64, 48}, std::tuple{7, 65, 33}, std::tuple{96, 576, 192}}) {
    auto x = randn(size_t(M * C), 1), w = randn(size_t(OC * C), 2, 0.1f), b = randn(size_t(OC), 3);
    std::vector<float> xr(x.size()), wr(w.size());
    for (size_t i = 0; i < x.size(); i++) xr[i] = round_bf16(x[i]);
    for (size_t i = 0; i < w.size(); i++) wr[i] = round_bf16(w[i]);
    std::vector<float> oracle(size_t(M * OC)), f32(oracle.size()), got(oracle.size());
    matmul_forward_naive(oracle.data(), (M <= kPackedStreamRowsMax ? x : xr).data(), wr.data(), b.data(), M, C, OC);
    matmul_forward(f32.data(), x.data(), w.data(), b.data(), M, C, OC);  // no scope: fp32
    auto frozen = cpu_backend().frozen_weights(WeightFormat::BF16);
    ASSERT_TRUE(frozen);
    frozen->add(w.data(), OC, C);
    {
      const Backend& be = frozen->backend();
      be.matmul_forward(got.data(), x.data(), w.data(), b.data(), M, C, OC);
      // A weight the frozen set does not hold stays fp32 on that backend.
      std::vector<float> other(oracle.size());
      be.matmul_forward(other.data(), x.data(), wr.data(), b.data(), M, C, OC);
      EXPECT_LT(rel_err(other, f32), 0.05) << "sanity";
      std::vector<float> f32r(oracle.size());
      matmul_forward_naive(f32r.data(), x.data(), wr.data(), b.data(), M, C, OC);
      EXPECT_LT(rel_err(other, f32r), 1e-5) << "a weight outside the set must not be rounded";
    }
    // fp32 accumulation of exact bf16 products over C ≤ 576 terms: ~1e-6 relative.
    EXPECT_LT(rel_err(got, oracle), 1e-5) << M << "x" << C << "x" << OC;
    // The rounding to bf16 is visible (8-bit mantissa) but small.
    const double r = rel_err(got, f32);
    EXPECT_GT(r, 1e-5) << "bf16 path not taken";
    EXPECT_LT(r, 1e-2);
  }
}

}  // namespace radlads
