// Causal GQA softmax attention backward: double analytic gradients of q, k, v
// against central finite differences of the double forward, then the fp32
// backward against the double one, over T = 1, 63, 65, 130 (partial, exact and
// several 64-query blocks), N = 64 and 128, GQA ratios 1 and 3.
#include "fd_check.h"
#include "backend/cpu/attention.h"

namespace radlads {
using namespace test;

struct AttnCase {
  int T, H, KVH, N;
  double qscale;  // > 1 sharpens the softmax (peaky rows, where dS cancels most)
};

TEST(AttentionBackward, FiniteDifferencesAndFp32) {
  for (AttnCase c : {AttnCase{1, 1, 1, 64, 1.0}, {63, 3, 3, 64, 1.0}, {65, 6, 2, 64, 1.0},
                     {65, 3, 1, 128, 1.0}, {130, 2, 2, 64, 3.0}, {7, 3, 1, 64, 4.0}}) {
    SCOPED_TRACE(testing::Message() << "T " << c.T << " H " << c.H << " KVH " << c.KVH << " N "
                                    << c.N << " qscale " << c.qscale);
    const int T = c.T, H = c.H, KVH = c.KVH, N = c.N;
    const int64_t kvs = int64_t(KVH) * N;
    auto q = randn_d(size_t(T) * H * N, 70, c.qscale), k = randn_d(size_t(T) * kvs, 71),
         v = randn_d(size_t(T) * kvs, 72), dy = randn_d(q.size(), 73);
    std::vector<double> y(q.size());
    auto loss = [&] {
      attention_forward_t<double>(y.data(), q.data(), k.data(), v.data(), T, T, H, KVH, N, kvs);
      return terms(y, dy);
    };
    auto dq = nan_d(q.size()), dk = nan_d(k.size()), dv = nan_d(v.size());
    attention_backward_t<double>(dq.data(), dk.data(), dv.data(), dy.data(), q.data(), k.data(),
                                 v.data(), T, H, KVH, N);
    EXPECT_LT(fd_rel_err(q, dq, loss), kFdTol);
    EXPECT_LT(fd_rel_err(k, dk, loss), kFdTol);
    EXPECT_LT(fd_rel_err(v, dv, loss), kFdTol);

    // fp32: scores and P·V are K ≤ 130-term sgemm sums (~sqrt(K)·6e-8), and
    // dS = P⊙(dP - D) subtracts two O(1) numbers to give an O(P) one, which
    // can cost a decade more on peaky rows (qscale 3, 4). Measured ≤ 6e-7;
    // 1e-5 keeps a >10× margin.
    auto qf = to_f(q), kf = to_f(k), vf = to_f(v), dyf = to_f(dy);
    auto dqf = nan_f(q.size()), dkf = nan_f(k.size()), dvf = nan_f(v.size());
    attention_backward(dqf.data(), dkf.data(), dvf.data(), dyf.data(), qf.data(), kf.data(),
                       vf.data(), T, H, KVH, N);
    EXPECT_LT(rel_err(dqf, dq), 1e-5);
    EXPECT_LT(rel_err(dkf, dk), 1e-5);
    EXPECT_LT(rel_err(dvf, dv), 1e-5);
  }
}

// The first query sees only key 0, so with T = 1 per head the output is v and
// dv must equal d_out summed over the group's query heads, dq and dk zero.
TEST(AttentionBackward, SinglePositionIsIdentityOnV) {
  const int H = 3, KVH = 1, N = 64;
  auto q = randn(size_t(H) * N, 80), k = randn(N, 81), v = randn(N, 82), dy = randn(q.size(), 83);
  std::vector<float> dq(q.size()), dk(N), dv(N);
  attention_backward(dq.data(), dk.data(), dv.data(), dy.data(), q.data(), k.data(), v.data(), 1,
                     H, KVH, N);
  for (int n = 0; n < N; n++) {
    EXPECT_NEAR(dv[size_t(n)], dy[size_t(n)] + dy[size_t(N + n)] + dy[size_t(2 * N + n)], 1e-6);
    EXPECT_EQ(dk[size_t(n)], 0.0f);
  }
  for (float g : dq) EXPECT_EQ(g, 0.0f);
}

}  // namespace radlads
