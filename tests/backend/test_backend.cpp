// The Backend interface (backend/backend.h) as the CPU backend implements it:
// selection by name, memory, and the generic ops that are not a single
// backend/cpu/ op already tested on its own (batched GEMM, mul's backward,
// column sums), each against a naive double-precision loop. The mixers'
// kernel tables are checked by the finite-difference and golden tests.
#include <cstdint>

#include "backend/backend.h"
#include "core/error.h"
#include "engine/context.h"
#include "models/mixers/rad_rwkv6/kernels.h"
#include "models/mixers/rad_rwkv7/kernels.h"
#include "test_util.h"

namespace radlads {
using namespace test;

TEST(Backend, SelectedByNameAndCarriedByTheContext) {
  EXPECT_EQ(&backend_by_name("cpu"), &cpu_backend());
  EXPECT_STREQ(cpu_backend().name(), "cpu");
  EXPECT_EQ(cpu_backend().device(), Device::Cpu);
  const std::string e = error_of([] { backend_by_name("tpu"); });
  EXPECT_NE(e.find("unknown backend 'tpu'"), std::string::npos) << e;
  EXPECT_NE(e.find("cpu"), std::string::npos) << e;
  const ExecContext ctx = ExecContext::local(1);
  EXPECT_EQ(&ctx.be(), &cpu_backend());
  EXPECT_EQ(ctx.to_json().at("backend"), "cpu");
  // Every architecture has CPU kernels.
  EXPECT_NE(rwkv6_kernels(cpu_backend()).decay, nullptr);
  EXPECT_NE(rwkv7_kernels(cpu_backend()).keys_backward, nullptr);
}

TEST(Backend, MemoryIsAlignedAndCopiesAndFills) {
  const Backend& be = cpu_backend();
  for (size_t bytes : {size_t(1), size_t(100), size_t(4096 + 4)}) {
    float* p = static_cast<float*>(be.alloc(bytes));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
    be.free(p);
  }
  std::vector<float> a(1000), b(1000);
  be.fill(a.data(), 2.5f, 1000);
  for (float x : a) ASSERT_EQ(x, 2.5f);
  be.copy(b.data(), a.data(), sizeof(float) * 1000);
  EXPECT_EQ(a, b);
}

TEST(Backend, StridedBatchedGemmIsEachGemm) {
  // The RAD-RWKV6 token-shift shape: A is one (M, 5R) matrix whose column
  // blocks are the batch (lda 5R, stride R), B and C packed (M,C) slices.
  const int M = 37, C = 24, R = 5, S = 5;
  auto h = randn(size_t(M * S * R), 1), w = randn(size_t(S * R * C), 2);
  std::vector<float> c(size_t(S * M * C), 7.0f);
  cpu_backend().gemm_strided_batched(false, false, M, C, R, 1.0f, h.data(), S * R, R, w.data(), C, int64_t(R) * C,
                                     0.0f, c.data(), C, int64_t(M) * C, S);
  double worst = 0;
  for (int s = 0; s < S; s++)
    for (int m = 0; m < M; m++)
      for (int j = 0; j < C; j++) {
        double ref = 0;
        for (int r = 0; r < R; r++) ref += double(h[size_t(m * S * R + s * R + r)]) * w[size_t(s * R * C + r * C + j)];
        worst = std::max(worst, std::abs(ref - c[size_t(s * M * C + m * C + j)]));
      }
  EXPECT_LT(worst, 1e-4);
}

TEST(Backend, MulBackwardMayWriteOverItsInputGradient) {
  const int64_t n = 1001;
  auto a = randn(size_t(n), 3), b = randn(size_t(n), 4), d = randn(size_t(n), 5);
  std::vector<float> da(static_cast<size_t>(n)), db(d);  // db aliases d_out
  cpu_backend().mul_backward(da.data(), db.data(), db.data(), a.data(), b.data(), n);
  for (int64_t i = 0; i < n; i++) {
    ASSERT_EQ(da[size_t(i)], d[size_t(i)] * b[size_t(i)]);
    ASSERT_EQ(db[size_t(i)], d[size_t(i)] * a[size_t(i)]);
  }
  std::vector<float> out(static_cast<size_t>(n));
  cpu_backend().mul(out.data(), a.data(), b.data(), n);
  for (int64_t i = 0; i < n; i++) ASSERT_EQ(out[size_t(i)], a[size_t(i)] * b[size_t(i)]);
}

TEST(Backend, ColumnSumsAccumulateAndNullIsFrozen) {
  const int64_t M = 513, n = 77;
  auto d = randn(size_t(M * n), 6);
  std::vector<float> out(size_t(n), 1.0f);
  cpu_backend().add_colsum(out.data(), d.data(), M, n);
  for (int64_t j = 0; j < n; j++) {
    double s = 1.0;
    for (int64_t m = 0; m < M; m++) s += d[size_t(m * n + j)];
    ASSERT_NEAR(out[size_t(j)], s, 1e-4 * (1 + std::abs(s)));
  }
  cpu_backend().add_colsum(nullptr, d.data(), M, n);  // a frozen parameter: no-op
  std::vector<float> x(10, 1.0f), y(10, 2.0f);
  cpu_backend().add_inplace(x.data(), y.data(), 10);
  cpu_backend().scale_inplace(x.data(), 0.5f, 10);
  for (float v : x) ASSERT_EQ(v, 1.5f);
}

TEST(Backend, EmbeddingCopiesRowsAndRefusesIdsOutsideTheVocabulary) {
  const int64_t V = 5, C = 3;
  auto table = randn(size_t(V * C), 7);
  const std::vector<int32_t> ok = {4, 0, 2}, bad = {1, 5};
  std::vector<float> out(size_t(3 * C));
  cpu_backend().embedding_forward(out.data(), table.data(), ok.data(), 3, C, V);
  for (int64_t i = 0; i < 3; i++)
    for (int64_t c = 0; c < C; c++) ASSERT_EQ(out[size_t(i * C + c)], table[size_t(ok[size_t(i)] * C + c)]);
  const std::string e = error_of([&] { cpu_backend().embedding_forward(out.data(), table.data(), bad.data(), 2, C, V); });
  EXPECT_NE(e.find("token id 5 is outside the vocabulary (0..4)"), std::string::npos) << e;
}

}  // namespace radlads
