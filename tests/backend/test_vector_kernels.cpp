// The per-ISA streaming kernels (backend/cpu/vector_kernels.h) against naive double
// references, on every kernel set this CPU supports.
#include <omp.h>

#include <cmath>

#include "core/cpu.h"
#include "backend/cpu/vector_kernels.h"
#include "test_util.h"

namespace radlads {
using namespace test;


TEST(VectorKernels, AdamWUpdateMatchesDoubleReferenceOnEveryIsa) {
  IsaRestore restore;
  const int64_t n = 1000 + 13;  // not a multiple of any vector width
  const auto g = randn(size_t(n), 1, 0.1f), w0 = randn(size_t(n), 2), m0 = randn(size_t(n), 3, 0.01f);
  std::vector<float> v0(static_cast<size_t>(n));
  for (size_t i = 0; i < v0.size(); i++) v0[i] = 1e-4f * float(i % 7 + 1);
  const AdamWStep s{0.9f, 0.95f, 1e-8f, 1e-3f / 0.19f, std::sqrt(1.0f - 0.9025f), 1.0f - 1e-3f * 0.1f};
  for (Isa isa : supported_isas()) {
    set_isa(isa);
    std::vector<float> w = w0, m = m0, v = v0;
    adamw_update(w.data(), m.data(), v.data(), g.data(), n, s);
    std::vector<double> we(w.size());
    for (size_t i = 0; i < w.size(); i++) {
      const double mj = 0.9 * m0[i] + 0.1 * g[i], vj = 0.95 * v0[i] + 0.05 * double(g[i]) * g[i];
      we[i] = w0[i] * double(s.decay) - double(s.step_size) * mj / (std::sqrt(vj) / double(s.sqrt_bc2) + 1e-8);
      // fp32 rounding of each term: relative to the terms, not to their (cancelling) sum.
      ASSERT_NEAR(m[i], mj, 1e-6 * (std::abs(0.9 * m0[i]) + std::abs(0.1 * g[i]))) << isa_name(isa) << " m[" << i << "]";
      ASSERT_NEAR(v[i], vj, 1e-6 * vj + 1e-12) << isa_name(isa) << " v[" << i << "]";
    }
    EXPECT_LT(rel_err(w, we), 1e-6) << isa_name(isa);
  }
}

TEST(VectorKernels, SumSquaresIsExactEnoughAndIndependentOfThreadsOnEveryIsa) {
  IsaRestore restore;
  const int64_t n = (1 << 17) + 977;  // spans blocks and a ragged tail
  const auto x = randn(size_t(n), 4);
  long double ref = 0;
  for (float e : x) ref += (long double)e * e;
  for (Isa isa : supported_isas()) {
    set_isa(isa);
    const double one = sum_squares(x.data(), n);
    EXPECT_NEAR(one, double(ref), 1e-12 * double(ref)) << isa_name(isa);
    const int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    const double single = sum_squares(x.data(), n);
    omp_set_num_threads(nt);
    EXPECT_EQ(single, one) << isa_name(isa) << ": the order must not depend on the thread count";
  }
}

TEST(Cpu, ReportsFeaturesAndHonoursTheIsaSwitch) {
  IsaRestore restore;
  const CpuFeatures& f = cpu_features();
  EXPECT_TRUE(f.avx2 && f.fma) << "the build's floor";
  EXPECT_FALSE(f.brand.empty());
  EXPECT_EQ(supported_isas().front(), Isa::AVX2);
  for (Isa isa : supported_isas()) {
    set_isa(isa);
    EXPECT_EQ(active_isa(), isa);
  }
  if (best_isa() == Isa::AVX2) {
    EXPECT_NE(error_of([] { set_isa(Isa::AVX512); }), "");
  }
}

}  // namespace radlads
