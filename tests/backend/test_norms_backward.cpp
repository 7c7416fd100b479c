// Per-head GroupNorm and L2 normalisation backward: double analytic gradients
// against central finite differences of the double forward, then fp32 against
// double, for M = 1, 7, 65, H = 1, 3 and N = 64, 128 (and an odd N = 5).
#include "fd_check.h"
#include "backend/cpu/group_norm.h"
#include "backend/cpu/l2norm.h"

namespace radlads {
using namespace test;

// fp32 vs double: per-head sums over N ≤ 128 are accumulated in double, so the
// fp32 result mostly carries input/output rounding (~1e-7). The exception is
// GroupNorm's float-cached mean: on the row with a common offset of 30 it is
// off by 30·6e-8, which shifts x̂ by ~2e-6·rstd. Measured ≤ 2.1e-6 (that row),
// ≤ 1e-7 elsewhere; 1e-5 leaves 5× over the worst case.
constexpr double kF32Tol = 1e-5;

TEST(GroupNormBackward, FiniteDifferencesAndFp32) {
  for (int N : {5, 64, 128})
    for (int H : {1, 3})
      for (int M : {1, 7, 65}) {
        SCOPED_TRACE(testing::Message() << "M " << M << " H " << H << " N " << N);
        const int64_t C = int64_t(H) * N;
        const double eps = N * 1e-5;  // as the models pass it
        auto x = randn_d(size_t(M) * C, 90 + N), w = randn_d(C, 91), b = randn_d(C, 92);
        auto dy = randn_d(x.size(), 93), w0 = randn_d(C, 94), b0 = randn_d(C, 95);
        // Row 0 sits on a large common offset: the two-pass variance must hold.
        for (int64_t c = 0; c < C; c++) x[size_t(c)] += 30.0;
        std::vector<double> y(x.size()), mean(size_t(M) * H), rstd(mean.size());
        auto loss = [&] {
          group_norm_forward_t<double>(y.data(), nullptr, nullptr, x.data(), w.data(), b.data(), M,
                                       H, N, eps);
          return terms(y, dy);
        };
        group_norm_forward_t<double>(y.data(), mean.data(), rstd.data(), x.data(), w.data(),
                                     b.data(), M, H, N, eps);
        auto dx = nan_d(x.size()), dw = w0, db = b0;
        group_norm_backward_t<double>(dx.data(), dw.data(), db.data(), dy.data(), x.data(),
                                      w.data(), mean.data(), rstd.data(), M, H, N);
        const auto gw = minus(dw, w0), gb = minus(db, b0);
        EXPECT_LT(fd_rel_err(x, dx, loss), kFdTol);
        EXPECT_LT(fd_rel_err(w, gw, loss), kFdTol);
        EXPECT_LT(fd_rel_err(b, gb, loss), kFdTol);

        loss();  // y at the unperturbed inputs
        auto xf = to_f(x), wf = to_f(w), bf = to_f(b), dyf = to_f(dy), w0f = to_f(w0),
             b0f = to_f(b0);
        std::vector<float> yf(x.size()), mf(mean.size()), rf(mean.size());
        group_norm_forward(yf.data(), mf.data(), rf.data(), xf.data(), wf.data(), bf.data(), M, H,
                           N, float(eps));
        EXPECT_LT(rel_err(yf, y), kF32Tol);
        auto dxf = nan_f(x.size()), dwf = w0f, dbf = b0f;
        group_norm_backward(dxf.data(), dwf.data(), dbf.data(), dyf.data(), xf.data(), wf.data(),
                            mf.data(), rf.data(), M, H, N);
        EXPECT_LT(rel_err(dxf, dx), kF32Tol);
        EXPECT_LT(rel_err(minus(dwf, w0f), gw), kF32Tol);
        EXPECT_LT(rel_err(minus(dbf, b0f), gb), kF32Tol);
        auto inplace = dyf, dw2 = w0f, db2 = b0f;  // d_inp = d_out
        group_norm_backward(inplace.data(), dw2.data(), db2.data(), inplace.data(), xf.data(),
                            wf.data(), mf.data(), rf.data(), M, H, N);
        EXPECT_EQ(inplace, dxf);
        EXPECT_EQ(dw2, dwf);
        EXPECT_EQ(db2, dbf);
      }
}

TEST(GroupNormForward, MatchesTorchFormula) {
  // One head of 4: mean 2.5, biased variance 1.25.
  const float x[4] = {1, 2, 3, 4}, w[4] = {1, 1, 2, 1}, b[4] = {0, 0, 0, 1};
  float y[4], mean, rstd;
  group_norm_forward(y, &mean, &rstd, x, w, b, 1, 1, 4, 1e-5f);
  const double r = 1 / std::sqrt(1.25 + 1e-5);
  EXPECT_NEAR(mean, 2.5, 1e-7);
  EXPECT_NEAR(rstd, r, 1e-6);
  EXPECT_NEAR(y[0], -1.5 * r, 1e-6);
  EXPECT_NEAR(y[2], 2 * 0.5 * r, 1e-6);
  EXPECT_NEAR(y[3], 1.5 * r + 1, 1e-6);
}

TEST(L2NormBackward, FiniteDifferencesAndFp32) {
  for (int N : {64, 128})
    for (int H : {1, 3})
      for (int M : {1, 7, 65}) {
        SCOPED_TRACE(testing::Message() << "M " << M << " H " << H << " N " << N);
        // Distinct seeds: dy = x would make the gradient (dy's part orthogonal to x) zero.
        auto x = randn_d(size_t(M) * H * N, 100 + M), dy = randn_d(x.size(), 200 + M);
        std::vector<double> y(x.size());
        auto loss = [&] {
          l2norm_forward_t<double>(y.data(), x.data(), M, H, N, 1e-12);
          return terms(y, dy);
        };
        auto dx = nan_d(x.size());
        l2norm_backward_t<double>(dx.data(), dy.data(), x.data(), M, H, N, 1e-12);
        EXPECT_LT(fd_rel_err(x, dx, loss), kFdTol);
        loss();  // y at the unperturbed x
        auto xf = to_f(x), dyf = to_f(dy), yf = nan_f(x.size()), dxf = nan_f(x.size());
        l2norm_forward(yf.data(), xf.data(), M, H, N);
        EXPECT_LT(rel_err(yf, y), kF32Tol);
        l2norm_backward(dxf.data(), dyf.data(), xf.data(), M, H, N);
        EXPECT_LT(rel_err(dxf, dx), kF32Tol);
      }
}

TEST(L2NormBackward, ZeroHeadIsFiniteAsTorch) {
  // A zero head: torch gives y = 0 and dx = dy / eps (the clamped denominator
  // is constant there). Finite, never NaN.
  const int N = 64;
  std::vector<float> x(2 * N, 0.0f), y(2 * N), dx(2 * N);
  auto dy = randn(2 * N, 110);
  for (int n = 0; n < N; n++) x[size_t(N + n)] = 1.0f;
  l2norm_forward(y.data(), x.data(), 1, 2, N);
  l2norm_backward(dx.data(), dy.data(), x.data(), 1, 2, N);
  EXPECT_TRUE(all_finite(y) && all_finite(dx));
  for (int n = 0; n < N; n++) {
    EXPECT_EQ(y[size_t(n)], 0.0f);
    EXPECT_FLOAT_EQ(dx[size_t(n)], float(dy[size_t(n)] / double(1e-12f)));
    EXPECT_FLOAT_EQ(y[size_t(N + n)], 0.125f);  // 1/√64
  }
}

}  // namespace radlads
