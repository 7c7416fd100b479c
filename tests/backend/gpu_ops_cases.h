// Every op of a device backend against the CPU backend on the same random
// inputs, written once for any `const Backend&` whose memory is reached
// through alloc / to_device / to_host: GpuSim.* runs them on the host
// emulation of the CUDA backend (tests/backend/gpu_sim/), tests/cuda/ on a
// GPU. Outputs start as NaN on the device, so an element an op forgets to
// write fails the comparison.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "backend/backend.h"
#include "backend/rope_table.h"
#include "test_util.h"

namespace radlads::test {

template <class T>
struct DevVec {
  const Backend& be;
  size_t n;
  T* p;
  DevVec(const Backend& be, const std::vector<T>& h) : be(be), n(h.size()), p(static_cast<T*>(be.alloc(bytes()))) {
    be.to_device(p, h.data(), bytes());
  }
  DevVec(const Backend& be, size_t n) : DevVec(be, std::vector<T>(n, poison())) {}
  ~DevVec() { be.free(p); }
  DevVec(const DevVec&) = delete;
  DevVec& operator=(const DevVec&) = delete;
  size_t bytes() const { return (n ? n : 1) * sizeof(T); }
  static T poison() {
    if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::quiet_NaN();
    return T(-7);
  }
  std::vector<T> get() const {
    std::vector<T> h(n);
    be.to_host(h.data(), p, n * sizeof(T));
    return h;
  }
};

inline std::vector<float> uniform(size_t n, uint64_t seed, float lo, float hi) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

#define EXPECT_CLOSE(dev_vec, cpu_vec, tol) EXPECT_LT(rel_err((dev_vec), (cpu_vec)), (tol)) << #dev_vec

inline void case_elementwise(const Backend& dev, double tol) {
  const Backend& cpu = cpu_backend();
  const size_t n = 1000;  // not a multiple of the block
  const auto a = randn(n, 1), b = randn(n, 2), g = randn(n, 3);
  {
    DevVec<float> x(dev, a), y(dev, b);
    dev.add_inplace(x.p, y.p, n);
    auto ref = a;
    cpu.add_inplace(ref.data(), b.data(), n);
    EXPECT_CLOSE(x.get(), ref, tol);
    dev.scale_inplace(x.p, -0.75f, n);
    cpu.scale_inplace(ref.data(), -0.75f, n);
    EXPECT_CLOSE(x.get(), ref, tol);
    dev.fill(x.p, 2.5f, n);
    EXPECT_CLOSE(x.get(), std::vector<float>(n, 2.5f), tol);
  }
  {
    DevVec<float> A(dev, a), B(dev, b), G(dev, g), out(dev, n), da(dev, n), db(dev, n);
    std::vector<float> ref(n), ra(n), rb(n);
    dev.mul(out.p, A.p, B.p, n);
    cpu.mul(ref.data(), a.data(), b.data(), n);
    EXPECT_CLOSE(out.get(), ref, tol);
    dev.mul_backward(da.p, db.p, G.p, A.p, B.p, n);
    cpu.mul_backward(ra.data(), rb.data(), g.data(), a.data(), b.data(), n);
    EXPECT_CLOSE(da.get(), ra, tol);
    EXPECT_CLOSE(db.get(), rb, tol);
    dev.tanh_forward(out.p, A.p, n);
    cpu.tanh_forward(ref.data(), a.data(), n);
    EXPECT_CLOSE(out.get(), ref, tol);
    dev.tanh_backward(da.p, G.p, out.p, n);
    cpu.tanh_backward(ra.data(), g.data(), ref.data(), n);
    EXPECT_CLOSE(da.get(), ra, tol);
    dev.sigmoid_forward(out.p, A.p, n);
    cpu.sigmoid_forward(ref.data(), a.data(), n);
    EXPECT_CLOSE(out.get(), ref, tol);
    dev.sigmoid_backward(da.p, G.p, out.p, n);
    cpu.sigmoid_backward(ra.data(), g.data(), ref.data(), n);
    EXPECT_CLOSE(da.get(), ra, tol);
    dev.swiglu_forward(out.p, A.p, B.p, n);
    cpu.swiglu_forward(ref.data(), a.data(), b.data(), n);
    EXPECT_CLOSE(out.get(), ref, tol);
    dev.swiglu_backward(da.p, db.p, G.p, A.p, B.p, n);
    cpu.swiglu_backward(ra.data(), rb.data(), g.data(), a.data(), b.data(), n);
    EXPECT_CLOSE(da.get(), ra, tol);
    EXPECT_CLOSE(db.get(), rb, tol);
  }
  {  // column sums over 37 rows of 100 (an accumulating parameter gradient)
    const int64_t M = 37, C = 100;
    const auto d = randn(size_t(M * C), 4), o0 = randn(size_t(C), 5);
    DevVec<float> D(dev, d), out(dev, o0);
    auto ref = o0;
    dev.add_colsum(out.p, D.p, M, C);
    cpu.add_colsum(ref.data(), d.data(), M, C);
    EXPECT_CLOSE(out.get(), ref, tol);
  }
  {  // grouped-query heads
    const int64_t M = 5;
    const int H = 6, KVH = 2, N = 8;
    const auto kv = randn(size_t(M * KVH * N), 6), dq = randn(size_t(M * H * N), 7);
    DevVec<float> KV(dev, kv), out(dev, size_t(M * H * N)), DQ(dev, dq), back(dev, size_t(M * KVH * N));
    std::vector<float> ref(out.n), rback(back.n);
    dev.gqa_expand(out.p, KV.p, M, H, KVH, N);
    cpu.gqa_expand(ref.data(), kv.data(), M, H, KVH, N);
    EXPECT_CLOSE(out.get(), ref, tol);
    dev.gqa_reduce(back.p, DQ.p, M, H, KVH, N);
    cpu.gqa_reduce(rback.data(), dq.data(), M, H, KVH, N);
    EXPECT_CLOSE(back.get(), rback, tol);
  }
}

inline void case_gemm(const Backend& dev, double tol) {
  const Backend& cpu = cpu_backend();
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {  // C (m,n) = op(A) op(B), row-major with padded leading dimensions
      const int m = 7, n = 9, k = 13, lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
      const auto a = randn(size_t((ta ? k : m) * lda), 10), b = randn(size_t((tb ? n : k) * ldb), 11);
      const auto c0 = randn(size_t(m * ldc), 12);
      DevVec<float> A(dev, a), B(dev, b), Cd(dev, c0);
      auto ref = c0;
      dev.gemm(ta, tb, m, n, k, 0.5f, A.p, lda, B.p, ldb, 0.25f, Cd.p, ldc);
      cpu.gemm(ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, 0.25f, ref.data(), ldc);
      EXPECT_CLOSE(Cd.get(), ref, tol) << " ta=" << ta << " tb=" << tb;
    }
  {  // three strided GEMMs, B shared (stride 0)
    const int m = 4, n = 6, k = 5, count = 3;
    const auto a = randn(size_t(count * m * k), 13), b = randn(size_t(k * n), 14);
    DevVec<float> A(dev, a), B(dev, b), Cd(dev, size_t(count * m * n));
    std::vector<float> ref(Cd.n);
    dev.gemm_strided_batched(false, false, m, n, k, 1, A.p, k, m * k, B.p, n, 0, 0, Cd.p, n, m * n, count);
    cpu.gemm_strided_batched(false, false, m, n, k, 1, a.data(), k, m * k, b.data(), n, 0, 0, ref.data(), n, m * n,
                             count);
    EXPECT_CLOSE(Cd.get(), ref, tol);
  }
  const int64_t M = 11, C = 24, OC = 10;
  const auto x = randn(size_t(M * C), 15), w = randn(size_t(OC * C), 16), bias = randn(size_t(OC), 17);
  const auto dy = randn(size_t(M * OC), 18), dw0 = randn(size_t(OC * C), 19), db0 = randn(size_t(OC), 20);
  {
    DevVec<float> X(dev, x), W(dev, w), Bi(dev, bias), Y(dev, size_t(M * OC)), DY(dev, dy), DX(dev, size_t(M * C)),
        DW(dev, dw0), DB(dev, db0);
    std::vector<float> y(Y.n), dx(DX.n);
    auto dw = dw0, db = db0;
    dev.matmul_forward(Y.p, X.p, W.p, Bi.p, M, C, OC);
    cpu.matmul_forward(y.data(), x.data(), w.data(), bias.data(), M, C, OC);
    EXPECT_CLOSE(Y.get(), y, tol);
    dev.matmul_backward(DX.p, DW.p, DB.p, DY.p, X.p, W.p, M, C, OC);
    cpu.matmul_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), M, C, OC);
    EXPECT_CLOSE(DX.get(), dx, tol);
    EXPECT_CLOSE(DW.get(), dw, tol);
    EXPECT_CLOSE(DB.get(), db, tol);
  }
  {  // LoRA factors [C, OC], accumulating both ways
    const auto lw = randn(size_t(C * OC), 21), y0 = randn(size_t(M * OC), 22), dx0 = randn(size_t(M * C), 23);
    DevVec<float> X(dev, x), W(dev, lw), Y(dev, y0), DY(dev, dy), DX(dev, dx0), DW(dev, std::vector<float>(lw.size(), 0));
    auto y = y0, dx = dx0;
    std::vector<float> dw(lw.size(), 0);
    dev.lora_matmul_forward(Y.p, X.p, W.p, M, C, OC, true);
    cpu.lora_matmul_forward(y.data(), x.data(), lw.data(), M, C, OC, true);
    EXPECT_CLOSE(Y.get(), y, tol);
    dev.lora_matmul_backward(DX.p, DW.p, DY.p, X.p, W.p, M, C, OC, true);
    cpu.lora_matmul_backward(dx.data(), dw.data(), dy.data(), x.data(), lw.data(), M, C, OC, true);
    EXPECT_CLOSE(DX.get(), dx, tol);
    EXPECT_CLOSE(DW.get(), dw, tol);
    dev.lora_matmul_forward(Y.p, X.p, W.p, M, C, OC, false);
    cpu.lora_matmul_forward(y.data(), x.data(), lw.data(), M, C, OC, false);
    EXPECT_CLOSE(Y.get(), y, tol);
  }
}

inline void case_norms(const Backend& dev, double tol) {
  const Backend& cpu = cpu_backend();
  {  // RMSNorm, C not a multiple of the block; backward in place (d_inp = d_out)
    const int64_t M = 6, C = 300;
    const auto x = randn(size_t(M * C), 30), w = randn(size_t(C), 31), dy = randn(size_t(M * C), 32);
    const auto dw0 = randn(size_t(C), 33);
    DevVec<float> X(dev, x), W(dev, w), Y(dev, size_t(M * C)), R(dev, size_t(M)), D(dev, dy), DW(dev, dw0);
    std::vector<float> y(Y.n), r(R.n);
    auto d = dy, dw = dw0;
    dev.rmsnorm_forward(Y.p, R.p, X.p, W.p, M, C, 1e-6f);
    cpu.rmsnorm_forward(y.data(), r.data(), x.data(), w.data(), M, C, 1e-6f);
    EXPECT_CLOSE(Y.get(), y, tol);
    EXPECT_CLOSE(R.get(), r, tol);
    dev.rmsnorm_backward(D.p, DW.p, D.p, X.p, W.p, R.p, M, C);
    cpu.rmsnorm_backward(d.data(), dw.data(), d.data(), x.data(), w.data(), r.data(), M, C);
    EXPECT_CLOSE(D.get(), d, tol);
    EXPECT_CLOSE(DW.get(), dw, tol);
  }
  {  // GroupNorm per head
    const int64_t M = 7;
    const int H = 3, N = 16, C = H * N;
    const auto x = randn(size_t(M * C), 34), w = randn(size_t(C), 35), b = randn(size_t(C), 36);
    const auto dy = randn(size_t(M * C), 37), dw0 = randn(size_t(C), 38), db0 = randn(size_t(C), 39);
    DevVec<float> X(dev, x), W(dev, w), Bi(dev, b), Y(dev, size_t(M * C)), Mu(dev, size_t(M * H)),
        Rs(dev, size_t(M * H)), D(dev, dy), DW(dev, dw0), DB(dev, db0);
    std::vector<float> y(Y.n), mu(Mu.n), rs(Rs.n);
    auto d = dy, dw = dw0, db = db0;
    const float eps = N * 1e-5f;
    dev.group_norm_forward(Y.p, Mu.p, Rs.p, X.p, W.p, Bi.p, M, H, N, eps);
    cpu.group_norm_forward(y.data(), mu.data(), rs.data(), x.data(), w.data(), b.data(), M, H, N, eps);
    EXPECT_CLOSE(Y.get(), y, tol);
    EXPECT_CLOSE(Rs.get(), rs, tol);
    dev.group_norm_backward(D.p, DW.p, DB.p, D.p, X.p, W.p, Mu.p, Rs.p, M, H, N);
    cpu.group_norm_backward(d.data(), dw.data(), db.data(), d.data(), x.data(), w.data(), mu.data(), rs.data(), M, H,
                            N);
    EXPECT_CLOSE(D.get(), d, tol);
    EXPECT_CLOSE(DW.get(), dw, tol);
    EXPECT_CLOSE(DB.get(), db, tol);
  }
  {  // L2 norm per head, one head all zeros (the eps branch)
    const int64_t M = 4;
    const int H = 2, N = 16;
    auto x = randn(size_t(M * H * N), 40);
    for (int n = 0; n < N; n++) x[size_t(N + n)] = 0;
    const auto dy = randn(x.size(), 41);
    DevVec<float> X(dev, x), Y(dev, x.size()), D(dev, dy);
    std::vector<float> y(x.size()), d(x.size());
    dev.l2norm_forward(Y.p, X.p, M, H, N);
    cpu.l2norm_forward(y.data(), x.data(), M, H, N);
    EXPECT_CLOSE(Y.get(), y, tol);
    dev.l2norm_backward(D.p, D.p, X.p, M, H, N);
    cpu.l2norm_backward(d.data(), dy.data(), x.data(), M, H, N);
    EXPECT_CLOSE(D.get(), d, tol);
  }
}

inline void case_tokens(const Backend& dev, double tol) {
  const Backend& cpu = cpu_backend();
  {  // RoPE on positions out of order, forward then backward
    const int64_t M = 6;
    const int nh = 3, N = 16;
    RopeTable table(N, 10000.0);
    table.ensure(64);
    const std::vector<int32_t> pos = {0, 5, 63, 2, 2, 40};
    const auto x = randn(size_t(M * nh * N), 50);
    DevVec<float> X(dev, x);
    DevVec<int32_t> P(dev, pos);
    auto ref = x;
    dev.rope_forward(X.p, P.p, M, nh, table);
    cpu.rope_forward(ref.data(), pos.data(), M, nh, table);
    EXPECT_CLOSE(X.get(), ref, tol);
    dev.rope_backward(X.p, P.p, M, nh, table);
    cpu.rope_backward(ref.data(), pos.data(), M, nh, table);
    EXPECT_CLOSE(X.get(), ref, tol);
    EXPECT_LT(rel_err(X.get(), x), 1e-5);  // the inverse rotation
  }
  {  // embedding, a repeated token adds its rows
    const int64_t M = 6, C = 20, V = 9;
    const std::vector<int32_t> tok = {3, 0, 8, 3, 3, 1};
    const auto table = randn(size_t(V * C), 51), dy = randn(size_t(M * C), 52), dt0 = randn(table.size(), 53);
    DevVec<float> T(dev, table), Y(dev, size_t(M * C)), DY(dev, dy), DT(dev, dt0);
    DevVec<int32_t> K(dev, tok);
    std::vector<float> y(Y.n);
    auto dt = dt0;
    dev.embedding_forward(Y.p, T.p, K.p, M, C, V);
    cpu.embedding_forward(y.data(), table.data(), tok.data(), M, C, V);
    EXPECT_CLOSE(Y.get(), y, tol);
    dev.embedding_backward(DT.p, DY.p, K.p, M, C);
    cpu.embedding_backward(dt.data(), dy.data(), tok.data(), M, C);
    EXPECT_CLOSE(DT.get(), dt, tol);
    const std::vector<int32_t> bad = {1, 9, 2};
    DevVec<int32_t> KB(dev, bad);
    const std::string e = error_of([&] { dev.embedding_forward(Y.p, T.p, KB.p, 3, C, V); });
    EXPECT_NE(e.find("outside the vocabulary (0..8)"), std::string::npos) << e;
  }
}

inline void case_attention(const Backend& dev, double tol) {
  const Backend& cpu = cpu_backend();
  const int H = 4, KVH = 2, N = 16;
  for (auto [Tq, Tk] : {std::pair{9, 9}, std::pair{3, 11}, std::pair{1, 6}}) {  // prefill, a chunk after a cache, decode
    const int64_t stride = 3 * KVH * N;  // KV rows inside a wider cache row
    const auto q = randn(size_t(Tq * H * N), 60), k = randn(size_t(Tk * stride), 61), v = randn(size_t(Tk * stride), 62);
    DevVec<float> Q(dev, q), K(dev, k), V(dev, v), O(dev, size_t(Tq * H * N));
    std::vector<float> o(O.n);
    dev.attention_forward(O.p, Q.p, K.p, V.p, Tq, Tk, H, KVH, N, stride);
    cpu.attention_forward(o.data(), q.data(), k.data(), v.data(), Tq, Tk, H, KVH, N, stride);
    EXPECT_CLOSE(O.get(), o, tol) << " Tq=" << Tq << " Tk=" << Tk;
  }
  const int T = 10;
  const auto q = randn(size_t(T * H * N), 63), k = randn(size_t(T * KVH * N), 64), v = randn(size_t(T * KVH * N), 65);
  const auto dy = randn(q.size(), 66);
  DevVec<float> Q(dev, q), K(dev, k), V(dev, v), DY(dev, dy), DQ(dev, q.size()), DK(dev, k.size()), DV(dev, v.size());
  std::vector<float> dq(q.size()), dk(k.size()), dv(v.size());
  dev.attention_backward(DQ.p, DK.p, DV.p, DY.p, Q.p, K.p, V.p, T, H, KVH, N);
  cpu.attention_backward(dq.data(), dk.data(), dv.data(), dy.data(), q.data(), k.data(), v.data(), T, H, KVH, N);
  EXPECT_CLOSE(DQ.get(), dq, tol);
  EXPECT_CLOSE(DK.get(), dk, tol);
  EXPECT_CLOSE(DV.get(), dv, tol);
}

// WKV6 at head size N over T tokens: forward with a state in and out, the
// backward with d_state_final and d_state0.
inline void case_wkv6(const Backend& dev, double tol, int N, int T) {
  const Backend& cpu = cpu_backend();
  const int B = 2, H = 2;
  const size_t n = size_t(B) * T * H * N, ns = size_t(B) * H * N * N;
  const auto r = randn(n, 70), k = randn(n, 71, 0.5f), v = randn(n, 72), lw = uniform(n, 73, -5.0f, 0.0f);
  const auto s0 = randn(ns, 74, 0.5f), dy = randn(n, 75), dsf = randn(ns, 76);
  const float scale = 0.125f;
  DevVec<float> R(dev, r), K(dev, k), V(dev, v), LW(dev, lw), S(dev, s0), O(dev, n);
  std::vector<float> o(n);
  auto s = s0;
  dev.wkv6_forward(O.p, S.p, R.p, K.p, V.p, LW.p, B, T, H, N, scale);
  cpu.wkv6_forward(o.data(), s.data(), r.data(), k.data(), v.data(), lw.data(), B, T, H, N, scale);
  EXPECT_CLOSE(O.get(), o, tol);
  EXPECT_CLOSE(S.get(), s, tol);
  DevVec<float> S0(dev, s0), DY(dev, dy), DSF(dev, dsf), DR(dev, n), DK(dev, n), DV(dev, n), DW(dev, n), DS0(dev, ns);
  std::vector<float> dr(n), dk(n), dv(n), dw(n), ds0(ns);
  dev.wkv6_backward(DR.p, DK.p, DV.p, DW.p, DS0.p, DY.p, DSF.p, R.p, K.p, V.p, LW.p, S0.p, B, T, H, N, scale);
  cpu.wkv6_backward(dr.data(), dk.data(), dv.data(), dw.data(), ds0.data(), dy.data(), dsf.data(), r.data(), k.data(),
                    v.data(), lw.data(), s0.data(), B, T, H, N, scale);
  EXPECT_CLOSE(DR.get(), dr, tol);
  EXPECT_CLOSE(DK.get(), dk, tol);
  EXPECT_CLOSE(DV.get(), dv, tol);
  EXPECT_CLOSE(DW.get(), dw, tol);
  EXPECT_CLOSE(DS0.get(), ds0, tol);
  // Without the optional state arguments.
  DevVec<float> DR2(dev, n), DK2(dev, n), DV2(dev, n), DW2(dev, n);
  dev.wkv6_backward(DR2.p, DK2.p, DV2.p, DW2.p, nullptr, DY.p, nullptr, R.p, K.p, V.p, LW.p, nullptr, B, T, H, N, scale);
  cpu.wkv6_backward(dr.data(), dk.data(), dv.data(), dw.data(), nullptr, dy.data(), nullptr, r.data(), k.data(),
                    v.data(), lw.data(), nullptr, B, T, H, N, scale);
  EXPECT_CLOSE(DR2.get(), dr, tol);
  EXPECT_CLOSE(DW2.get(), dw, tol);
}

// WKV7 with the model's kinds of inputs (tests/backend/test_wkv7.cpp says why):
// w in (0.55, 1), a = −κ, b = κ·σ(z) with κ unit-norm per head.
inline void case_wkv7(const Backend& dev, double tol, int N, int T) {
  const Backend& cpu = cpu_backend();
  const int B = 2, H = 2;
  const size_t n = size_t(B) * T * H * N, ns = size_t(B) * H * N * N;
  const auto r = randn(n, 80), k = randn(n, 81), v = randn(n, 82), w = uniform(n, 83, 0.55f, 0.999f);
  auto a = randn(n, 84), b = uniform(n, 85, 0.0f, 1.0f);
  for (size_t row = 0; row < n; row += size_t(N)) {
    double nrm = 0;
    for (int i = 0; i < N; i++) nrm += double(a[row + i]) * a[row + i];
    nrm = std::sqrt(nrm);
    for (int i = 0; i < N; i++) {
      const float kappa = float(a[row + i] / nrm);
      a[row + i] = -kappa;
      b[row + i] = kappa * b[row + i];
    }
  }
  const auto s0 = randn(ns, 86, 0.5f), dy = randn(n, 87), dsf = randn(ns, 88);
  const float scale = float(1.0 / std::sqrt(double(N)));
  DevVec<float> R(dev, r), W(dev, w), K(dev, k), V(dev, v), A(dev, a), Bb(dev, b), S(dev, s0), O(dev, n);
  std::vector<float> o(n);
  auto s = s0;
  dev.wkv7_forward(O.p, S.p, R.p, W.p, K.p, V.p, A.p, Bb.p, B, T, H, N, scale);
  cpu.wkv7_forward(o.data(), s.data(), r.data(), w.data(), k.data(), v.data(), a.data(), b.data(), B, T, H, N, scale);
  EXPECT_CLOSE(O.get(), o, tol);
  EXPECT_CLOSE(S.get(), s, tol);
  DevVec<float> S0(dev, s0), DY(dev, dy), DSF(dev, dsf), DR(dev, n), DW(dev, n), DK(dev, n), DV(dev, n), DA(dev, n),
      DB(dev, n), DS0(dev, ns);
  std::vector<float> dr(n), dw(n), dk(n), dv(n), da(n), db(n), ds0(ns);
  dev.wkv7_backward(DR.p, DW.p, DK.p, DV.p, DA.p, DB.p, DS0.p, DY.p, DSF.p, R.p, W.p, K.p, V.p, A.p, Bb.p, S0.p, B, T,
                    H, N, scale);
  cpu.wkv7_backward(dr.data(), dw.data(), dk.data(), dv.data(), da.data(), db.data(), ds0.data(), dy.data(), dsf.data(),
                    r.data(), w.data(), k.data(), v.data(), a.data(), b.data(), s0.data(), B, T, H, N, scale);
  EXPECT_CLOSE(DR.get(), dr, tol);
  EXPECT_CLOSE(DW.get(), dw, tol);
  EXPECT_CLOSE(DK.get(), dk, tol);
  EXPECT_CLOSE(DV.get(), dv, tol);
  EXPECT_CLOSE(DA.get(), da, tol);
  EXPECT_CLOSE(DB.get(), db, tol);
  EXPECT_CLOSE(DS0.get(), ds0, tol);
}

inline void case_losses(const Backend& dev, double tol) {
  const Backend& cpu = cpu_backend();
  const int64_t M = 5, V = 700;
  const auto s = randn(size_t(M * V), 90, 3.0f), t = randn(size_t(M * V), 91, 3.0f);
  const std::vector<int32_t> tg = {4, -1, 699, 0, 17};  // one ignored row
  {  // cross-entropy, gradient in place over the logits
    DevVec<float> S(dev, s), L(dev, size_t(M));
    DevVec<int32_t> TG(dev, tg);
    auto g = s;
    std::vector<float> l(M);
    const double dl = dev.cross_entropy(S.p, L.p, S.p, TG.p, M, V, 0.5f);
    const double cl = cpu.cross_entropy(g.data(), l.data(), g.data(), tg.data(), M, V, 0.5f);
    EXPECT_NEAR(dl, cl, tol * std::fabs(cl));
    EXPECT_CLOSE(S.get(), g, tol);
    EXPECT_CLOSE(L.get(), l, tol);
  }
  {  // KL to the teacher
    DevVec<float> S(dev, s), T(dev, t), G(dev, s.size());
    std::vector<float> g(s.size());
    const double dl = dev.kl_divergence(G.p, S.p, T.p, M, V, 0.25f);
    const double cl = cpu.kl_divergence(g.data(), s.data(), t.data(), M, V, 0.25f);
    EXPECT_NEAR(dl, cl, tol * std::fabs(cl));
    EXPECT_CLOSE(G.get(), g, tol);
    EXPECT_NEAR(dev.kl_divergence(nullptr, S.p, T.p, M, V, 1.0f), cl, tol * std::fabs(cl));
  }
  {  // hidden-state alignment, one row identical (the eps branch)
    const int64_t C = 300;
    auto ys = randn(size_t(M * C), 92), yt = randn(size_t(M * C), 93);
    for (int64_t c = 0; c < C; c++) ys[size_t(2 * C + c)] = yt[size_t(2 * C + c)];
    DevVec<float> YS(dev, ys), YT(dev, yt), G(dev, ys.size());
    std::vector<float> g(ys.size());
    const double dl = dev.align_l2(G.p, YS.p, YT.p, M, C, 0.2f);
    const double cl = cpu.align_l2(g.data(), ys.data(), yt.data(), M, C, 0.2f);
    EXPECT_NEAR(dl, cl, tol * std::fabs(cl));
    EXPECT_CLOSE(G.get(), g, tol);
  }
}

inline void case_optimiser(const Backend& dev, double tol) {
  const Backend& cpu = cpu_backend();
  const int64_t n = Backend::kSumSquaresBlock * 2 + 12345;  // three blocks, the last short
  const auto x = randn(size_t(n), 95);
  DevVec<float> X(dev, x);
  const int64_t nb = 3;
  std::vector<double> pd(nb), pc(nb);
  dev.sum_squares_blocks(X.p, n, pd.data());
  cpu.sum_squares_blocks(x.data(), n, pc.data());
  for (int64_t b = 0; b < nb; b++) EXPECT_NEAR(pd[size_t(b)], pc[size_t(b)], 1e-9 * pc[size_t(b)]);
  const int64_t m = 999;
  const auto w = randn(size_t(m), 96), g = randn(size_t(m), 97), m0 = randn(size_t(m), 98, 0.1f);
  const auto v0 = uniform(size_t(m), 99, 0.0f, 0.01f);
  const AdamWStep s{0.9f, 0.99f, 1e-8f, 1e-3f, 0.3f, 0.9999f};
  DevVec<float> W(dev, w), G(dev, g), Mo(dev, m0), Vo(dev, v0);
  auto wc = w, mc = m0, vc = v0;
  dev.adamw_update(W.p, Mo.p, Vo.p, G.p, m, s);
  cpu.adamw_update(wc.data(), mc.data(), vc.data(), g.data(), m, s);
  EXPECT_CLOSE(W.get(), wc, tol);
  EXPECT_CLOSE(Mo.get(), mc, tol);
  EXPECT_CLOSE(Vo.get(), vc, tol);
}

// The frozen bf16 view: weights and inputs rounded to bf16, fp32 accumulation.
inline void case_frozen_bf16(const Backend& dev, double tol) {
  const int64_t M = 20, C = 64, OC = 24;
  const auto x = randn(size_t(M * C), 100), w = randn(size_t(OC * C), 101), bias = randn(size_t(OC), 102);
  auto round = [](std::vector<float> v) {
    for (auto& f : v) {
      uint32_t u;
      std::memcpy(&u, &f, 4);
      u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
      std::memcpy(&f, &u, 4);
    }
    return v;
  };
  const auto xr = round(x), wr = round(w);
  std::vector<float> ref(size_t(M * OC));
  cpu_backend().matmul_forward(ref.data(), xr.data(), wr.data(), bias.data(), M, C, OC);
  DevVec<float> X(dev, x), W(dev, w), Bi(dev, bias), Y(dev, ref.size());
  auto fw = dev.frozen_weights(WeightFormat::BF16);
  fw->add(W.p, OC, C);
  EXPECT_EQ(fw->weights(), 1u);
  EXPECT_EQ(fw->bytes(), size_t(OC * C * 2));
  fw->backend().matmul_forward(Y.p, X.p, W.p, Bi.p, M, C, OC);
  EXPECT_CLOSE(Y.get(), ref, tol);
  const std::string e = error_of([&] { dev.frozen_weights(WeightFormat::Q4_0); });
  EXPECT_NE(e.find("f32 or bf16"), std::string::npos) << e;
}

// Every case as a TEST of `suite`, on the backend `be` (an expression), with
// tol for the element-wise ops and gemm_tol for those that go through GEMMs.
#define RADLADS_GPU_OP_TESTS(suite, be, tol, gemm_tol)                                       \
  TEST(suite, Elementwise) { ::radlads::test::case_elementwise(be, tol); }                   \
  TEST(suite, Gemm) { ::radlads::test::case_gemm(be, gemm_tol); }                            \
  TEST(suite, Norms) { ::radlads::test::case_norms(be, tol); }                               \
  TEST(suite, Tokens) { ::radlads::test::case_tokens(be, tol); }                             \
  TEST(suite, Attention) { ::radlads::test::case_attention(be, gemm_tol); }                  \
  TEST(suite, Wkv6Head16) { ::radlads::test::case_wkv6(be, 2e-5, 16, 21); }                  \
  TEST(suite, Wkv6Head64) { ::radlads::test::case_wkv6(be, 2e-5, 64, 12); }                  \
  TEST(suite, Wkv7Head16) { ::radlads::test::case_wkv7(be, 2e-5, 16, 37); }                  \
  TEST(suite, Wkv7Head64) { ::radlads::test::case_wkv7(be, 2e-5, 64, 18); }                  \
  TEST(suite, Losses) { ::radlads::test::case_losses(be, tol); }                             \
  TEST(suite, Optimiser) { ::radlads::test::case_optimiser(be, tol); }                       \
  TEST(suite, FrozenBf16) { ::radlads::test::case_frozen_bf16(be, 1e-5); }

}  // namespace radlads::test
