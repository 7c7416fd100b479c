// Fast ops against their naive references over awkward shapes.
#include <cmath>

#include "backend/cpu/attention.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/rmsnorm.h"
#include "backend/cpu/rope.h"
#include "test_util.h"

namespace radlads {
using namespace test;

TEST(Matmul, MatchesNaive) {
  for (auto [M, C, OC] : {std::tuple{1, 1, 1}, {7, 63, 65}, {64, 576, 192}, {3, 130, 1}}) {
    auto x = randn(size_t(M * C), 1), w = randn(size_t(OC * C), 2), b = randn(size_t(OC), 3);
    std::vector<float> fast(size_t(M * OC)), ref(size_t(M * OC));
    for (bool bias : {false, true}) {
      matmul_forward(fast.data(), x.data(), w.data(), bias ? b.data() : nullptr, M, C, OC);
      matmul_forward_naive(ref.data(), x.data(), w.data(), bias ? b.data() : nullptr, M, C, OC);
      // fp32 sgemm accumulation over C terms vs double: ~sqrt(C)*eps relative.
      EXPECT_LT(rel_err(fast, ref), 1e-5) << M << "x" << C << "x" << OC;
    }
  }
}

TEST(Attention, MatchesNaivePrefillAndDecode) {
  struct Case { int Tq, Tk, H, KVH, N; };
  for (Case c : {Case{1, 1, 1, 1, 64}, {63, 63, 3, 3, 64}, {65, 65, 9, 3, 64}, {130, 130, 4, 1, 128},
                 {1, 300, 9, 3, 64}, {5, 70, 6, 2, 64}}) {
    const int64_t kvs = int64_t(c.KVH) * c.N;
    auto q = randn(size_t(c.Tq) * c.H * c.N, 10), k = randn(size_t(c.Tk) * kvs, 11),
         v = randn(size_t(c.Tk) * kvs, 12);
    std::vector<float> fast(q.size()), ref(q.size());
    attention_forward(fast.data(), q.data(), k.data(), v.data(), c.Tq, c.Tk, c.H, c.KVH, c.N, kvs);
    attention_forward_naive(ref.data(), q.data(), k.data(), v.data(), c.Tq, c.Tk, c.H, c.KVH, c.N, kvs);
    EXPECT_LT(rel_err(fast, ref), 1e-5) << c.Tq << " " << c.Tk << " " << c.H << "/" << c.KVH;
  }
}

TEST(Attention, FirstQuerySeesOnlyFirstKey) {
  // With Tq == Tk the first query must return v[0] exactly: a mask that leaks fails.
  const int T = 4, N = 64;
  auto q = randn(size_t(T) * N, 1), k = randn(size_t(T) * N, 2), v = randn(size_t(T) * N, 3);
  std::vector<float> out(q.size());
  attention_forward(out.data(), q.data(), k.data(), v.data(), T, T, 1, 1, N, N);
  for (int n = 0; n < N; n++) EXPECT_FLOAT_EQ(out[size_t(n)], v[size_t(n)]);
}

TEST(RmsNorm, MatchesFormula) {
  const int M = 3, C = 577;
  auto x = randn(size_t(M * C), 4), w = randn(size_t(C), 5);
  std::vector<float> out(x.size()), rstd(M);
  rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), M, C, 1e-5f);
  for (int m = 0; m < M; m++) {
    double ss = 0;
    for (int c = 0; c < C; c++) ss += double(x[size_t(m * C + c)]) * x[size_t(m * C + c)];
    double r = 1 / std::sqrt(ss / C + 1e-5);
    for (int c = 0; c < C; c += 37)
      EXPECT_NEAR(out[size_t(m * C + c)], x[size_t(m * C + c)] * r * w[size_t(c)], 1e-5);
  }
}

TEST(Rope, RotatesHalvesByPositionAngle) {
  const int N = 64, H = 2;
  RopeTable t(N, 100000.0);
  t.ensure(1000);
  auto x = randn(size_t(2 * H * N), 6);
  auto y = x;
  int32_t pos[2] = {0, 999};
  rope_forward(y.data(), pos, 2, H, t);
  for (int n = 0; n < H * N; n++) EXPECT_EQ(y[size_t(n)], x[size_t(n)]);  // position 0: identity
  for (int h = 0; h < H; h++)
    for (int i = 0; i < N / 2; i++) {
      double a = 999.0 * std::pow(100000.0, -2.0 * i / N);
      size_t o = size_t((H + h) * N);
      double x1 = x[o + size_t(i)], x2 = x[o + size_t(i + N / 2)];
      EXPECT_NEAR(y[o + size_t(i)], x1 * std::cos(a) - x2 * std::sin(a), 1e-5);
      EXPECT_NEAR(y[o + size_t(i + N / 2)], x2 * std::cos(a) + x1 * std::sin(a), 1e-5);
    }
}

}  // namespace radlads
