// Losses: cross-entropy, forward KL and the unsquared L2 alignment. Values
// against independent long-double loops, gradients against central finite
// differences (double path), fp32 against double, chunk-size invariance,
// ignored targets, in-place gradients, and finiteness at a zero difference.
#include <tuple>

#include "fd_check.h"
#include "backend/cpu/losses.h"

namespace radlads {
using namespace test;

// Independent references: plain long-double loops, no max-shift tricks shared
// with the kernels beyond the obvious one.
static long double ref_lse(const double* x, int64_t V) {
  long double mx = x[0], s = 0;
  for (int64_t v = 1; v < V; v++) mx = std::max<long double>(mx, x[v]);
  for (int64_t v = 0; v < V; v++) s += std::exp((long double)x[v] - mx);
  return mx + std::log(s);
}
static double ref_ce(const std::vector<double>& x, const std::vector<int32_t>& t, int64_t V) {
  long double sum = 0;
  for (size_t m = 0; m < t.size(); m++)
    if (t[m] >= 0) sum += ref_lse(&x[m * V], V) - x[m * V + size_t(t[m])];
  return double(sum);
}
static double ref_kl(const std::vector<double>& s, const std::vector<double>& t, int64_t M,
                     int64_t V) {
  long double sum = 0;
  for (int64_t m = 0; m < M; m++) {
    const long double ls = ref_lse(&s[m * V], V), lt = ref_lse(&t[m * V], V);
    for (int64_t v = 0; v < V; v++) {
      const long double lpt = t[m * V + v] - lt, lps = s[m * V + v] - ls;
      sum += std::exp(lpt) * (lpt - lps);
    }
  }
  return double(sum);
}
static double ref_l2(const std::vector<double>& ys, const std::vector<double>& yt, int64_t M,
                     int64_t C) {
  long double sum = 0;
  for (int64_t m = 0; m < M; m++) {
    long double ss = 0;
    for (int64_t c = 0; c < C; c++) {
      long double d = (long double)ys[m * C + c] - yt[m * C + c];
      ss += d * d;
    }
    sum += std::sqrt(ss) / std::sqrt((long double)C);
  }
  return double(sum);
}

// fp32 vs double: the fp32 kernels read fp32 logits exactly and accumulate in
// double; the only fp32 rounding is in each exp (≈6e-8 relative, averaging out
// over V) and in the written gradient. Measured ≤ 1.3e-7 (KL, V = 4099) for
// values and gradients; 2e-6 leaves >10×.
constexpr double kF32Tol = 2e-6;

// FD step for the logit losses. A logit's gradient is p_v (≈ 1/V for most
// entries) while its row loss is O(log V), so with h = 1e-5 the rounding of the
// double row loss (≈1e-16·|L|/h) is ~1e-7 of the gradient. log-sum-exp has
// f'''/f' = (1-p)(1-2p)·... = O(1), so the truncation error is ~h²/6: h = 3e-4
// balances both near 1e-8.
constexpr double kLossFdStep = 3e-4;

static const std::tuple<int, int> kShapes[] = {{1, 1}, {1, 7}, {7, 1000}, {65, 33}, {3, 4099}};

TEST(CrossEntropy, ValuesGradientsAndIgnoredTargets) {
  for (auto [M, V] : kShapes) {
    SCOPED_TRACE(testing::Message() << "M " << M << " V " << V);
    auto x = randn_d(size_t(M) * V, 120, 3.0);
    std::vector<int32_t> t(M);
    std::mt19937 g(uint32_t(M * V));
    for (auto& tt : t) tt = int32_t(g() % uint32_t(V));
    if (M > 2) t[1] = -1, t[M - 1] = -100;  // ignored rows, one of them the last
    const double scale = 0.37;
    auto d = nan_d(x.size());
    std::vector<double> losses(M, NAN);
    const double L = cross_entropy_forward_backward_t<double>(d.data(), losses.data(), x.data(),
                                                              t.data(), M, V, scale);
    EXPECT_NEAR(L, ref_ce(x, t, V), 1e-12 * (1 + std::abs(L)));
    double lsum = 0;
    for (double l : losses) lsum += l;
    EXPECT_NEAR(lsum, L, 1e-12 * (1 + std::abs(L)));
    // Per-row terms (fd_check.h): rows the perturbed logit is not in cancel exactly.
    std::vector<double> row_losses(M);
    auto loss = [&] {
      cross_entropy_forward_backward_t<double>(nullptr, row_losses.data(), x.data(), t.data(), M,
                                               V, 1.0);
      for (auto& l : row_losses) l *= scale;
      return row_losses;
    };
    EXPECT_LT(fd_rel_err(x, d, loss, 48, 7, kLossFdStep), kFdTol);
    for (int m = 0; m < M; m++)
      if (t[m] < 0) {
        EXPECT_EQ(losses[m], 0.0);
        for (int v = 0; v < V; v++) EXPECT_EQ(d[size_t(m) * V + v], 0.0) << m << " " << v;
      }

    auto xf = to_f(x), df = nan_f(x.size()), lf = nan_f(M);
    const double Lf = cross_entropy_forward_backward(df.data(), lf.data(), xf.data(), t.data(), M,
                                                     V, float(scale));
    EXPECT_NEAR(Lf, L, kF32Tol * (1 + std::abs(L)));
    EXPECT_LT(rel_err(df, d), kF32Tol);
    EXPECT_LT(rel_err(lf, losses), kF32Tol);
    EXPECT_TRUE(all_finite(df));
    // Any chunking, and in place, give the same bits.
    for (int64_t chunk : {1, 3, 64, 100000}) {
      auto d2 = nan_f(x.size()), l2 = nan_f(M);
      EXPECT_EQ(cross_entropy_forward_backward(d2.data(), l2.data(), xf.data(), t.data(), M, V,
                                               float(scale), chunk),
                Lf);
      EXPECT_EQ(d2, df);
      EXPECT_EQ(l2, lf);
    }
    auto inplace = xf;
    EXPECT_EQ(cross_entropy_forward_backward(inplace.data(), nullptr, inplace.data(), t.data(), M,
                                             V, float(scale)),
              Lf);
    EXPECT_EQ(inplace, df);
  }
}

TEST(CrossEntropy, LargeLogitsAndLargeVocabulary) {
  // Logits of ±100 overflow a naive exp; a 150k vocabulary is Qwen-sized.
  const int M = 2, V = 151936;
  auto x = randn_d(size_t(M) * V, 130, 30.0);
  std::vector<int32_t> t = {5, V - 1};
  x[5] = 100.0;
  const double ref = ref_ce(x, t, V);
  auto xf = to_f(x), df = nan_f(x.size());
  const double L = cross_entropy_forward_backward(df.data(), nullptr, xf.data(), t.data(), M, V,
                                                  1.0f);
  EXPECT_NEAR(L, ref, kF32Tol * (1 + std::abs(ref)));
  EXPECT_TRUE(all_finite(df));
  double row_sum = 0;  // softmax sums to 1, so each gradient row sums to 0
  for (int v = 0; v < V; v++) row_sum += df[size_t(v)];
  EXPECT_NEAR(row_sum, 0.0, 1e-5);
}

TEST(KlDivergence, ValuesGradientsAndChunking) {
  for (auto [M, V] : kShapes) {
    SCOPED_TRACE(testing::Message() << "M " << M << " V " << V);
    auto s = randn_d(size_t(M) * V, 140, 2.0), te = randn_d(s.size(), 141, 2.0);
    const double scale = 0.37;
    auto d = nan_d(s.size());
    const double L = kl_forward_backward_t<double>(d.data(), s.data(), te.data(), M, V, scale);
    EXPECT_NEAR(L, ref_kl(s, te, M, V), 1e-12 * (1 + std::abs(L)));
    EXPECT_GE(L, -1e-12);
    auto loss = [&] {  // per-row terms, as above
      std::vector<double> rows(M);
      for (int m = 0; m < M; m++)
        rows[m] = scale * kl_forward_backward_t<double>(nullptr, &s[size_t(m) * V],
                                                        &te[size_t(m) * V], 1, V, 1.0);
      return rows;
    };
    EXPECT_LT(fd_rel_err(s, d, loss, 48, 7, kLossFdStep), kFdTol);

    auto sf = to_f(s), tf = to_f(te), df = nan_f(s.size());
    const double Lf = kl_forward_backward(df.data(), sf.data(), tf.data(), M, V, float(scale));
    EXPECT_NEAR(Lf, L, kF32Tol * (1 + std::abs(L)));
    if (V > 1) {
      EXPECT_LT(rel_err(df, d), kF32Tol);
    }
    EXPECT_TRUE(all_finite(df));
    for (int64_t chunk : {1, 3, 64, 100000}) {
      auto d2 = nan_f(s.size());
      EXPECT_EQ(kl_forward_backward(d2.data(), sf.data(), tf.data(), M, V, float(scale), chunk),
                Lf);
      EXPECT_EQ(d2, df);
    }
    auto inplace = sf;
    EXPECT_EQ(kl_forward_backward(inplace.data(), inplace.data(), tf.data(), M, V, float(scale)),
              Lf);
    EXPECT_EQ(inplace, df);
  }
}

TEST(KlDivergence, ZeroForShiftedCopyOfTeacher) {
  // Softmax ignores a constant shift: a student equal to teacher + 7 is at the
  // minimum, KL 0 and gradient 0. The teacher logits are multiples of 2^-10 so
  // that +7 is exact in fp32 (otherwise rounding the shifted logits by up to
  // 1e-6 is itself a real, if tiny, difference); then the max-shifted
  // exponentials agree bit for bit and any bias in the kernel would show
  // (an unexact shift leaves gradients of ~1e-7).
  const int M = 3, V = 5000;
  auto tf = randn(size_t(M) * V, 150, 3.0f), sf = tf;
  for (size_t i = 0; i < tf.size(); i++) {
    tf[i] = std::round(tf[i] * 1024.0f) / 1024.0f;
    sf[i] = tf[i] + 7.0f;
  }
  auto df = nan_f(sf.size());
  const double L = kl_forward_backward(df.data(), sf.data(), tf.data(), M, V, 1.0f);
  EXPECT_LT(std::abs(L), 1e-12);
  // Not always exactly 0: the compiler may fuse e_S·inv_S - p_T into one FMA,
  // which keeps e_S·inv_S unrounded and leaves p_T's rounding (≤ 1.1e-16·p).
  double mx = 0;
  for (float g : df) mx = std::max(mx, double(std::abs(g)));
  EXPECT_LT(mx, 1e-15);
}

TEST(AlignL2, ValuesGradientsAndZeroDifference) {
  for (auto [M, C] : {std::tuple{1, 1}, {7, 13}, {65, 576}, {3, 1000}}) {
    SCOPED_TRACE(testing::Message() << "M " << M << " C " << C);
    auto ys = randn_d(size_t(M) * C, 160), yt = randn_d(ys.size(), 161);
    const double scale = 0.37;
    auto d = nan_d(ys.size());
    const double L =
        align_l2_forward_backward_t<double>(d.data(), ys.data(), yt.data(), M, C, scale);
    EXPECT_NEAR(L, ref_l2(ys, yt, M, C), 1e-12 * (1 + L));
    auto loss = [&] {  // per-row terms, as above
      std::vector<double> rows(M);
      for (int m = 0; m < M; m++)
        rows[m] = scale * align_l2_forward_backward_t<double>(nullptr, &ys[size_t(m) * C],
                                                              &yt[size_t(m) * C], 1, C, 1.0);
      return rows;
    };
    EXPECT_LT(fd_rel_err(ys, d, loss), kFdTol);

    auto ysf = to_f(ys), ytf = to_f(yt), df = nan_f(ys.size());
    const double Lf =
        align_l2_forward_backward(df.data(), ysf.data(), ytf.data(), M, C, float(scale));
    EXPECT_NEAR(Lf, L, kF32Tol * (1 + L));
    EXPECT_LT(rel_err(df, d), kF32Tol);
    for (int64_t chunk : {1, 3, 64, 100000}) {
      auto d2 = nan_f(ys.size());
      EXPECT_EQ(align_l2_forward_backward(d2.data(), ysf.data(), ytf.data(), M, C, float(scale),
                                          chunk),
                Lf);
      EXPECT_EQ(d2, df);
    }
    auto inplace = ysf;
    EXPECT_EQ(align_l2_forward_backward(inplace.data(), inplace.data(), ytf.data(), M, C,
                                        float(scale)),
              Lf);
    EXPECT_EQ(inplace, df);
  }
  // A row where student equals teacher (step 0 copies q/k/v/o, so early rows
  // can match exactly): loss 0, gradient 0, no NaN; the other row unaffected.
  const int C = 64;
  auto yt = randn(2 * C, 170), ys = yt;
  ys[size_t(C)] += 3.0f;  // row 1 differs in one channel by 3
  auto d = nan_f(ys.size());
  const double L = align_l2_forward_backward(d.data(), ys.data(), yt.data(), 2, C, 1.0f);
  EXPECT_NEAR(L, 3.0 / 8.0, 1e-7);
  EXPECT_TRUE(all_finite(d));
  for (int c = 0; c < C; c++) EXPECT_EQ(d[size_t(c)], 0.0f);
  EXPECT_NEAR(d[size_t(C)], 1.0 / 8.0, 1e-7);  // unit direction / √C
}

}  // namespace radlads
