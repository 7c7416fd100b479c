// Backward of the standard ops (matmul, rmsnorm, rope, swiglu, embedding,
// activations): the double analytic gradient of every input and parameter
// against central finite differences of the double forward (fd_check.h), then
// the fp32 path against the double one on the same inputs. Parameter
// gradients start from random contents (checks +=), activation gradients from
// NaN (checks they are written, =).
#include <tuple>

#include "fd_check.h"
#include "backend/cpu/activations.h"
#include "backend/cpu/embedding.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/rmsnorm.h"
#include "backend/cpu/rope.h"
#include "backend/cpu/swiglu.h"

namespace radlads {
using namespace test;

// fp32 vs double analytic gradients on identical inputs. These ops are short
// sums of products (≤ a few hundred terms; sgemm accumulates in fp32, the rest
// in double), so the fp32 result carries ~sqrt(K)·6e-8 normalised error.
// Measured ≤ 5e-7 (rmsnorm's weight gradient over 65 rows); 1e-5 leaves 20×,
// and any formula error the FD check would catch is far larger.
constexpr double kF32Tol = 1e-5;

TEST(MatmulBackward, FiniteDifferencesAndFp32) {
  for (auto [M, C, OC] : {std::tuple{1, 1, 1}, {7, 13, 5}, {65, 70, 33}, {3, 129, 1}})
    for (bool bias : {false, true}) {
      SCOPED_TRACE(testing::Message() << M << "x" << C << "x" << OC << " bias " << bias);
      auto x = randn_d(size_t(M) * C, 1), w = randn_d(size_t(OC) * C, 2), b = randn_d(OC, 3);
      auto dy = randn_d(size_t(M) * OC, 4), w0 = randn_d(w.size(), 5), b0 = randn_d(b.size(), 6);
      std::vector<double> y(dy.size());
      auto loss = [&] {
        matmul_forward_t<double>(y.data(), x.data(), w.data(), bias ? b.data() : nullptr, M, C, OC);
        return terms(y, dy);
      };
      auto dx = nan_d(x.size()), dw = w0, db = b0;
      matmul_backward_t<double>(dx.data(), dw.data(), bias ? db.data() : nullptr, dy.data(),
                                x.data(), w.data(), M, C, OC);
      const auto gw = minus(dw, w0), gb = minus(db, b0);
      EXPECT_LT(fd_rel_err(x, dx, loss), kFdTol);
      EXPECT_LT(fd_rel_err(w, gw, loss), kFdTol);
      if (bias) {
        EXPECT_LT(fd_rel_err(b, gb, loss), kFdTol);
      }

      auto xf = to_f(x), wf = to_f(w), dyf = to_f(dy), w0f = to_f(w0), b0f = to_f(b0);
      auto dxf = nan_f(x.size()), dwf = w0f, dbf = b0f;
      matmul_backward(dxf.data(), dwf.data(), dbf.data(), dyf.data(), xf.data(), wf.data(), M, C,
                      OC);
      EXPECT_LT(rel_err(dxf, dx), kF32Tol);
      EXPECT_LT(rel_err(minus(dwf, w0f), gw), kF32Tol);
      // Without a bias in the double run gb is zero; the float run always has one.
      if (bias) {
        EXPECT_LT(rel_err(minus(dbf, b0f), gb), kF32Tol);
      }
      // nullptr skips: d_inp untouched, weights still accumulate.
      auto dw2 = w0f;
      matmul_backward(nullptr, dw2.data(), nullptr, dyf.data(), xf.data(), wf.data(), M, C, OC);
      EXPECT_EQ(dw2, dwf);
    }
}

TEST(RmsNormBackward, FiniteDifferencesAndFp32) {
  for (int M : {1, 7, 65})
    for (int C : {1, 13, 67, 300}) {
      SCOPED_TRACE(testing::Message() << "M " << M << " C " << C);
      // C = 1 with eps = 1e-5 is degenerate: y ≈ sign(x)·w, and the true dx =
      // g·r·eps/(x²+eps) ≈ 1e-5·g drowns in FD rounding. eps = 1 keeps the same
      // code path well conditioned.
      const double eps = C == 1 ? 1.0 : 1e-5;
      auto x = randn_d(size_t(M) * C, 10 + M), w = randn_d(C, 11), dy = randn_d(x.size(), 12);
      auto w0 = randn_d(C, 13);
      std::vector<double> y(x.size()), rstd(M);
      auto loss = [&] {
        rmsnorm_forward_t<double>(y.data(), nullptr, x.data(), w.data(), M, C, eps);
        return terms(y, dy);
      };
      rmsnorm_forward_t<double>(y.data(), rstd.data(), x.data(), w.data(), M, C, eps);
      auto dx = nan_d(x.size()), dw = w0;
      rmsnorm_backward_t<double>(dx.data(), dw.data(), dy.data(), x.data(), w.data(), rstd.data(),
                                 M, C);
      const auto gw = minus(dw, w0);
      EXPECT_LT(fd_rel_err(x, dx, loss), kFdTol);
      EXPECT_LT(fd_rel_err(w, gw, loss), kFdTol);

      auto xf = to_f(x), wf = to_f(w), dyf = to_f(dy), w0f = to_f(w0);
      std::vector<float> yf(x.size()), rf(M);
      rmsnorm_forward(yf.data(), rf.data(), xf.data(), wf.data(), M, C, float(eps));
      auto dxf = nan_f(x.size()), dwf = w0f;
      rmsnorm_backward(dxf.data(), dwf.data(), dyf.data(), xf.data(), wf.data(), rf.data(), M, C);
      EXPECT_LT(rel_err(dxf, dx), kF32Tol);
      EXPECT_LT(rel_err(minus(dwf, w0f), gw), kF32Tol);
      // In place (d_inp = d_out) gives the same bits.
      auto inplace = dyf, dw2 = w0f;
      rmsnorm_backward(inplace.data(), dw2.data(), inplace.data(), xf.data(), wf.data(), rf.data(),
                       M, C);
      EXPECT_EQ(inplace, dxf);
      EXPECT_EQ(dw2, dwf);
    }
}

TEST(RopeBackward, FiniteDifferencesAndFp32) {
  for (int N : {2, 64, 128})
    for (int nh : {1, 3})
      for (int M : {1, 7, 65}) {
        SCOPED_TRACE(testing::Message() << "N " << N << " nh " << nh << " M " << M);
        RopeTable t(N, N == 128 ? 1e6 : 10000.0);
        t.ensure(1000);
        std::vector<int32_t> pos(M);
        std::mt19937 g(uint32_t(M * N));
        for (auto& p : pos) p = int32_t(g() % 1000);
        pos[0] = 0;
        auto x = randn_d(size_t(M) * nh * N, 20), dy = randn_d(x.size(), 21);
        std::vector<double> y;
        auto loss = [&] {
          y = x;
          rope_forward_t<double>(y.data(), pos.data(), M, nh, t);
          return terms(y, dy);
        };
        auto dx = dy;
        rope_backward_t<double>(dx.data(), pos.data(), M, nh, t);
        EXPECT_LT(fd_rel_err(x, dx, loss), kFdTol);
        auto dxf = to_f(dy);
        rope_backward(dxf.data(), pos.data(), M, nh, t);
        EXPECT_LT(rel_err(dxf, dx), kF32Tol);
      }
}

TEST(SwigluBackward, FiniteDifferencesAndFp32) {
  for (int n : {1, 7, 1000}) {
    SCOPED_TRACE(n);
    // Gates up to ±12 and two saturated ones, where σ is 0 or 1 in float.
    auto gate = randn_d(n, 30, 4.0), up = randn_d(n, 31), dy = randn_d(n, 32);
    if (n > 2) gate[1] = -30.0, gate[2] = 30.0;
    std::vector<double> y(n);
    auto loss = [&] {
      swiglu_forward_t<double>(y.data(), gate.data(), up.data(), n);
      return terms(y, dy);
    };
    auto dg = nan_d(n), du = nan_d(n);
    swiglu_backward_t<double>(dg.data(), du.data(), dy.data(), gate.data(), up.data(), n);
    EXPECT_LT(fd_rel_err(gate, dg, loss), kFdTol);
    EXPECT_LT(fd_rel_err(up, du, loss), kFdTol);
    auto gf = to_f(gate), uf = to_f(up), dyf = to_f(dy), dgf = nan_f(n), duf = nan_f(n);
    gf[0] = -200.0f;  // e^200 overflows float: σ must come out 0, not NaN
    swiglu_backward(dgf.data(), duf.data(), dyf.data(), gf.data(), uf.data(), n);
    EXPECT_TRUE(all_finite(dgf) && all_finite(duf));
    gf[0] = float(gate[0]);
    swiglu_backward(dgf.data(), duf.data(), dyf.data(), gf.data(), uf.data(), n);
    EXPECT_LT(rel_err(dgf, dg), kF32Tol);
    EXPECT_LT(rel_err(duf, du), kF32Tol);
  }
}

TEST(EmbeddingBackward, FiniteDifferencesRepeatedTokensAndFp32) {
  const int V = 7;
  for (int M : {1, 7, 65})
    for (int C : {1, 13, 130}) {
      SCOPED_TRACE(testing::Message() << "M " << M << " C " << C);
      std::vector<int32_t> tok(M);
      std::mt19937 g(uint32_t(M + C));
      for (auto& t : tok) t = int32_t(g() % V);  // M > V: tokens repeat
      auto table = randn_d(size_t(V) * C, 40), dy = randn_d(size_t(M) * C, 41);
      auto d0 = randn_d(table.size(), 42);
      std::vector<double> y(dy.size());
      auto loss = [&] {
        embedding_forward_t<double>(y.data(), table.data(), tok.data(), M, C);
        return terms(y, dy);
      };
      auto dt = d0;
      embedding_backward_t<double>(dt.data(), dy.data(), tok.data(), M, C);
      const auto gt = minus(dt, d0);
      EXPECT_LT(fd_rel_err(table, gt, loss, 64), kFdTol);
      auto dtf = to_f(d0), d0f = to_f(d0), dyf = to_f(dy);
      embedding_backward(dtf.data(), dyf.data(), tok.data(), M, C);
      EXPECT_LT(rel_err(minus(dtf, d0f), gt), kF32Tol);
      std::vector<float> yf(dy.size());
      loss();  // y at the unperturbed table
      embedding_forward(yf.data(), to_f(table).data(), tok.data(), M, C);
      EXPECT_EQ(rel_err(yf, y), 0.0);
    }
}

TEST(ActivationsBackward, FiniteDifferencesAndFp32) {
  const int n = 257;
  auto x = randn_d(n, 50, 3.0), dy = randn_d(n, 51);
  x[0] = 0.0, x[1] = -20.0, x[2] = 20.0;
  using Fwd = void (*)(double*, const double*, int64_t);
  using Bwd = void (*)(double*, const double*, const double*, int64_t);
  using FwdF = void (*)(float*, const float*, int64_t);
  using BwdF = void (*)(float*, const float*, const float*, int64_t);
  struct Case { const char* name; Fwd f; Bwd b; FwdF ff; BwdF bf; bool from_output; };
  for (Case c : {Case{"tanh", tanh_forward_t<double>, tanh_backward_t<double>, tanh_forward,
                      tanh_backward, true},
                 Case{"sigmoid", sigmoid_forward_t<double>, sigmoid_backward_t<double>,
                      sigmoid_forward, sigmoid_backward, true},
                 Case{"silu", silu_forward_t<double>, silu_backward_t<double>, silu_forward,
                      silu_backward, false}}) {
    SCOPED_TRACE(c.name);
    std::vector<double> y(n);
    auto loss = [&] {
      c.f(y.data(), x.data(), n);
      return terms(y, dy);
    };
    loss();
    auto dx = nan_d(n);
    c.b(dx.data(), dy.data(), c.from_output ? y.data() : x.data(), n);
    EXPECT_LT(fd_rel_err(x, dx, loss, n), kFdTol);
    loss();  // y at the unperturbed x
    auto xf = to_f(x), dyf = to_f(dy), yf = nan_f(n), dxf = nan_f(n);
    c.ff(yf.data(), xf.data(), n);
    EXPECT_LT(rel_err(yf, y), kF32Tol);
    c.bf(dxf.data(), dyf.data(), c.from_output ? yf.data() : xf.data(), n);
    EXPECT_LT(rel_err(dxf, dx), kF32Tol);
    xf[3] = -200.0f;  // saturated: finite, no NaN
    c.ff(yf.data(), xf.data(), n);
    c.bf(dxf.data(), dyf.data(), c.from_output ? yf.data() : xf.data(), n);
    EXPECT_TRUE(all_finite(yf) && all_finite(dxf));
  }
}

// The checker itself can fail: a gradient off by 0.1 % in one entry, or a
// parameter gradient that overwrote instead of accumulating, is rejected.
TEST(FdCheck, RejectsSlightlyWrongGradients) {
  const int M = 7, C = 13;
  auto x = randn_d(size_t(M) * C, 60), w = randn_d(C, 61), dy = randn_d(x.size(), 62);
  std::vector<double> y(x.size()), rstd(M);
  auto loss = [&] {
    rmsnorm_forward_t<double>(y.data(), rstd.data(), x.data(), w.data(), M, C, 1e-5);
    return terms(y, dy);
  };
  loss();
  auto dx = nan_d(x.size()), w0 = randn_d(C, 63), dw = w0;
  rmsnorm_backward_t<double>(dx.data(), dw.data(), dy.data(), x.data(), w.data(), rstd.data(), M,
                             C);
  ASSERT_LT(fd_rel_err(x, dx, loss, x.size()), kFdTol);
  ASSERT_LT(fd_rel_err(w, minus(dw, w0), loss, w.size()), kFdTol);
  auto bad = dx;
  bad[5] *= 1.001;
  EXPECT_GT(fd_rel_err(x, bad, loss, x.size()), 10 * kFdTol);
  EXPECT_GT(fd_rel_err(w, dw, loss, w.size()), 10 * kFdTol);  // still holds w0
}

}  // namespace radlads
