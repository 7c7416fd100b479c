// Internals of the chunked WKV6 forward and backward (wkv6.cpp,
// wkv6_backward.cpp): one chunk of one head copied into contiguous buffers,
// its decay products, and the intra-chunk decayed attention matrix.
//
// Numerics. Within a chunk every decay factor is a product of w = exp(log w)
// ≤ 1: P_t = w_0…w_t (chunk start → t), Fs_t = w_{t+1}…w_{L-1} (t → chunk end),
// and dec(t,s) = w_{s+1}…w_t for the pairs inside the chunk, carried as a
// running product. None can overflow, and each is exact to ~L ulp. The usual
// GPU form q·e^{b_t} × k·e^{-b_s} (b = cumulative log-decay) overflows fp32 once
// a chunk's log-decay passes ~88 (18 tokens at log w = -5), so it is not used.
// Products that underflow are flushed to zero (FlushDenormals): the true value
// is below 1e-38 and subnormal arithmetic is ~100x slower on x86.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "backend/cpu/wkv7_simd.h"  // the AVX2 float/double wrapper, shared with WKV7

namespace radlads::wkv6_detail {

using ::radlads::RADLADS_ISA_NS::wkv7_detail::Simd;  // (wkv6 builds for AVX2 only)

// Chunk length. The intra-chunk work grows as L/2 pairs per token, the sgemm
// against the N×N state wants L large. For N = 64, T = 512 on the 2-core AVX2
// box, L = 16/32/64 were within noise of each other with 32 slightly ahead,
// forward and backward (CPU time, one thread).
inline constexpr int kChunk = 32;

// Sets FTZ/DAZ on this thread for the object's life and restores MXCSR after.
struct FlushDenormals {
  unsigned saved;
  FlushDenormals() : saved(_mm_getcsr()) { _mm_setcsr(saved | 0x8040u); }
  ~FlushDenormals() { _mm_setcsr(saved); }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;
};

// out[i] = e^{x[i]} for i < n, n % 8 == 0 (the callers CHECK N % 8).
// glibc's expf is a call GCC does not vectorise without -ffast-math, and one
// scalar expf per element costs as much as the chunk's arithmetic; a plain-C
// polynomial did not vectorise either (GCC 12 will not if-convert the clamp's
// select when it feeds an FMA). So: AVX2, Cephes range reduction
// x = n ln2 + r, |r| ≤ ln2/2, degree-6 polynomial; measured ≤ 8.3e-8 relative
// error on [-87, 0] (under 1 ulp; tests/backend/test_wkv6.cpp). x is clamped to
// ≥ -87.3 (-inf and NaN land there too; NaN is CHECKed by the caller), so
// e^x below 1.2e-38 comes out as 1.2e-38: flushed to zero as soon as it
// multiplies anything under FlushDenormals, and 0 for every purpose here.
inline void exp_array(float* out, const float* x, int n) {
  for (int i = 0; i < n; i += 8) {
    const __m256 xc = _mm256_max_ps(_mm256_loadu_ps(x + i), _mm256_set1_ps(-87.3f));
    const __m256 nf = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504f)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(nf, _mm256_set1_ps(0.693359375f), xc);  // ln2 in two parts
    r = _mm256_fmadd_ps(nf, _mm256_set1_ps(2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    const __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(nf), _mm256_set1_epi32(127)), 23);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
  }
}
inline void exp_array(double* out, const double* x, int n) {
  for (int i = 0; i < n; i++) out[i] = std::exp(x[i]);
}

// One chunk (L ≤ kChunk rows) of one (batch, head), rows N wide.
template <typename F>
struct Chunk {
  int N, L = 0;
  std::vector<F> q, k, v, w;  // q = r·scale, w = exp(logw)
  std::vector<F> P, Fs;       // inclusive prefix / exclusive suffix products of w
  std::vector<F> qe, kf;      // q ⊙ P, k ⊙ Fs
  std::vector<F> p, acc;      // N-wide scratch for the running products

  explicit Chunk(int n)  // N % 8 == 0 (the SIMD width)
      : N(n),
        q(size_t(kChunk) * n),
        k(q.size()),
        v(q.size()),
        w(q.size()),
        P(q.size()),
        Fs(q.size()),
        qe(q.size()),
        kf(q.size()),
        p(size_t(n)),
        acc(size_t(n)) {}

  // Copies rows 0..L-1 (row stride rs) of r, k, v, logw and forms the decays.
  void load(const F* r_, const F* k_, const F* v_, const F* logw_, int64_t rs, int L_, F scale) {
    L = L_;
    int bad = 0;
    for (int t = 0; t < L; t++) {
      const F *rt = r_ + t * rs, *kin = k_ + t * rs, *vin = v_ + t * rs, *lw = logw_ + t * rs;
      F *qt = &q[size_t(t) * N], *wt = &w[size_t(t) * N];
#pragma omp simd
      for (int i = 0; i < N; i++) qt[i] = rt[i] * scale;
      std::copy_n(kin, N, &k[size_t(t) * N]);
      std::copy_n(vin, N, &v[size_t(t) * N]);
#pragma omp simd reduction(+ : bad)
      for (int i = 0; i < N; i++) bad += !(lw[i] <= F(0));  // also catches NaN
      exp_array(wt, lw, N);
    }
    CHECK(bad == 0, "wkv6: log w must be <= 0; {} entries of a chunk are not", bad);
    for (int i = 0; i < N; i++) P[size_t(i)] = w[size_t(i)];
    for (int t = 1; t < L; t++) {
      const F *pp = &P[size_t(t - 1) * N], *wt = &w[size_t(t) * N];
      F* pt = &P[size_t(t) * N];
#pragma omp simd
      for (int i = 0; i < N; i++) pt[i] = pp[i] * wt[i];
    }
    std::fill_n(&Fs[size_t(L - 1) * N], N, F(1));
    for (int t = L - 2; t >= 0; t--) {
      const F *fn = &Fs[size_t(t + 1) * N], *wn = &w[size_t(t + 1) * N];
      F* ft = &Fs[size_t(t) * N];
#pragma omp simd
      for (int i = 0; i < N; i++) ft[i] = fn[i] * wn[i];
    }
    for (size_t e = 0; e < size_t(L) * N; e++) {
      qe[e] = q[e] * P[e];
      kf[e] = k[e] * Fs[e];
    }
  }

  const F* P_last() const { return &P[size_t(L - 1) * N]; }

  // A (L×L, row stride kChunk): A[t][s] = Σ_i q_t[i] k_s[i] dec(t,s)[i] for
  // s ≤ t, 0 above the diagonal: the decayed scores inside the chunk.
  // For each s the running product p = k_s ⊙ dec(t,s) walks t upward; W
  // consecutive t form W independent dots, finished by one transpose-reduce
  // (plain loops here compiled to a scalar chain through p, ~4x slower).
  void intra(F* A) {
    using S = Simd<F>;
    using V = typename S::V;
    constexpr int W = S::W;
    alignas(32) F dots[W];
    for (int s = 0; s < L; s++) {
      for (int t = 0; t < s; t++) A[size_t(t) * kChunk + s] = 0;
      A[size_t(s) * kChunk + s] = dot(&q[size_t(s) * N], &k[size_t(s) * N]);
      std::copy_n(&k[size_t(s) * N], N, p.data());
      for (int t0 = s + 1; t0 < L; t0 += W) {
        const int nt = std::min(W, L - t0);
        V acc[W];
        for (int c = 0; c < W; c++) acc[c] = S::zero();
        for (int i = 0; i < N; i += W) {
          V pv = S::load(&p[size_t(i)]);
          for (int c = 0; c < nt; c++) {
            const size_t e = size_t(t0 + c) * N + i;
            pv = S::mul(pv, S::load(&w[e]));
            acc[c] = S::fmadd(S::load(&q[e]), pv, acc[c]);
          }
          S::store(&p[size_t(i)], pv);
        }
        S::store(dots, S::reduce(acc));
        for (int c = 0; c < nt; c++) A[size_t(t0 + c) * kChunk + s] = dots[c];
      }
    }
  }

  // Backward of the intra part, given Bm[t][s] = dL/dA_ts = do_t·v_s (s ≤ t,
  // row stride kChunk). Recomputes A and forms the strictly off-diagonal
  //   dq_off[t] = Σ_{s<t} Bm_ts k_s ⊙ dec(t,s),  dk_off[s] = Σ_{t>s} Bm_ts q_t ⊙ dec(t,s)
  // (L×N each). The diagonal terms (dec = 1) are left to the caller so that
  // the d log w identity q⊙dq − k⊙dk can drop them exactly (see backward).
  // Same walk as intra(): per s, t upward, W t at a time.
  void intra_backward(F* A, F* dq_off, F* dk_off, const F* Bm) {
    using S = Simd<F>;
    using V = typename S::V;
    constexpr int W = S::W;
    alignas(32) F dots[W];
    std::fill_n(dq_off, size_t(L) * N, F(0));
    for (int s = 0; s < L; s++) {
      const F* ks = &k[size_t(s) * N];
      for (int t = 0; t < s; t++) A[size_t(t) * kChunk + s] = 0;
      A[size_t(s) * kChunk + s] = dot(&q[size_t(s) * N], ks);
      std::fill_n(p.data(), N, F(1));
      std::fill_n(acc.data(), N, F(0));
      for (int t0 = s + 1; t0 < L; t0 += W) {
        const int nt = std::min(W, L - t0);
        V dacc[W];
        for (int c = 0; c < W; c++) dacc[c] = S::zero();
        for (int i = 0; i < N; i += W) {
          V pv = S::load(&p[size_t(i)]), ak = S::load(&acc[size_t(i)]);
          const V kv = S::load(ks + i);
          for (int c = 0; c < nt; c++) {
            const size_t e = size_t(t0 + c) * N + i;
            const V bts = S::set1(Bm[size_t(t0 + c) * kChunk + s]);
            pv = S::mul(pv, S::load(&w[e]));  // dec(t,s)
            const V kp = S::mul(kv, pv), qt = S::load(&q[e]);
            dacc[c] = S::fmadd(qt, kp, dacc[c]);
            S::store(dq_off + e, S::fmadd(bts, kp, S::load(dq_off + e)));
            ak = S::fmadd(S::mul(bts, qt), pv, ak);
          }
          S::store(&p[size_t(i)], pv);
          S::store(&acc[size_t(i)], ak);
        }
        S::store(dots, S::reduce(dacc));
        for (int c = 0; c < nt; c++) A[size_t(t0 + c) * kChunk + s] = dots[c];
      }
      std::copy_n(acc.data(), N, dk_off + size_t(s) * N);
    }
  }

  F dot(const F* x, const F* y) const {
    using S = Simd<F>;
    typename S::V a = S::zero();
    for (int i = 0; i < N; i += S::W) a = S::fmadd(S::load(x + i), S::load(y + i), a);
    alignas(32) F l[S::W];
    S::store(l, a);
    F sum = 0;
    for (int c = 0; c < S::W; c++) sum += l[c];
    return sum;
  }
};

}  // namespace radlads::wkv6_detail
