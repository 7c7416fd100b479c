// WKV6 backward: the hand-written backward of the chunked form (wkv6.cpp).
//
// Per chunk with start state S0, end-state gradient dS, decays P, Fs, dec as in
// wkv6_chunk.h, q = r·scale and Bm_ts = do_t·v_s:
//   dq_t = (S0 do_t) ⊙ P_t + Σ_{s≤t} Bm_ts k_s ⊙ dec(t,s)
//   dk_t = (dS v_t) ⊙ Fs_t + Σ_{s≥t} Bm_st q_s ⊙ dec(s,t)
//   dV   = Aᵀ dO + (k ⊙ Fs) dS
//   dS0  = diag(P_{L-1}) dS + (q ⊙ P)ᵀ dO            (the previous chunk's dS)
//   d log w_u = Σ_{t≥u} q_t⊙dq_t^inter + Σ_{s<u} k_s⊙dk_s^inter + P_{L-1}⊙rowsum(dS⊙S0)
//             + Σ_{t≥u} (q_t⊙dq_t^off − k_t⊙dk_t^off)
// The first three terms are the exact derivatives of P_t, Fs_s and P_{L-1}
// (all sums of like-signed products, no cancellation). The last is the GLA
// identity for the pairs s < u ≤ t straddling u: it is exact in exact
// arithmetic, and because the diagonal pairs (dec = 1, the largest terms)
// are dropped from dq^off/dk^off, what cancels in it is only pairs already
// decayed by at least one w. Its fp32 error is therefore ~eps·Σ|pair terms|,
// small next to the gradient unless w ≪ 1 throughout a chunk.
#include <algorithm>
#include <vector>

#include "core/error.h"
#include "backend/cpu/blas.h"
#include "backend/cpu/wkv6.h"
#include "backend/cpu/wkv6_chunk.h"
#include "backend/cpu/scratch.h"

namespace radlads {

using wkv6_detail::Chunk;
using wkv6_detail::FlushDenormals;
using wkv6_detail::kChunk;

template <typename F>
void wkv6_backward_t(F* d_r, F* d_k, F* d_v, F* d_logw, F* d_state0, const F* d_out,
                     const F* d_state_final, const F* r, const F* k, const F* v, const F* logw,
                     const F* state0, int B, int T, int H, int N, double scale) {
  CHECK(B > 0 && T > 0 && H > 0 && N > 0, "wkv6_backward: bad dims B={} T={} H={} N={}", B, T, H,
        N);
  CHECK(N % 8 == 0, "wkv6_backward: N = {} must be a multiple of 8", N);
  const int64_t rs = int64_t(H) * N, NN = int64_t(N) * N;
  const int nc = (T + kChunk - 1) / kChunk;
  const size_t LN = size_t(kChunk) * N;
#pragma omp parallel
  {
    FlushDenormals ftz;
    thread_local Chunk<F> c_tl(0);
    if (c_tl.N != N) c_tl = Chunk<F>(N);
    Chunk<F>& c = c_tl;
    thread_local std::vector<F> states_tl, dS_tl, A_tl, Bm_tl, dO_tl, dq_tl, dk_tl, dv_tl, dq_off_tl, dk_off_tl,
        acc_tl;
    std::vector<F>& states = states_tl;
    std::vector<F>& dS = grown(dS_tl, size_t(NN));
    std::vector<F>& A = grown(A_tl, size_t(kChunk) * kChunk);
    std::vector<F>& Bm = grown(Bm_tl, size_t(kChunk) * kChunk);
    std::vector<F>& dO = grown(dO_tl, LN);
    std::vector<F>& dq = grown(dq_tl, LN);
    std::vector<F>& dk = grown(dk_tl, LN);
    std::vector<F>& dv = grown(dv_tl, LN);
    std::vector<F>& dq_off = grown(dq_off_tl, LN);
    std::vector<F>& dk_off = grown(dk_off_tl, LN);
    std::vector<F>& acc = grown(acc_tl, size_t(N));
#pragma omp for schedule(dynamic)
    for (int bh = 0; bh < B * H; bh++) {
      const int b = bh / H, h = bh % H;
      auto offset = [&](int t0) { return (int64_t(b) * T + t0) * rs + int64_t(h) * N; };

      // Chunk-start states S^(0..nc-1) (forward recomputation, no outputs).
      states.resize(size_t(nc) * NN);
      if (state0)
        std::copy_n(state0 + bh * NN, NN, states.data());
      else
        std::fill_n(states.data(), NN, F(0));
      for (int ci = 0; ci + 1 < nc; ci++) {
        const int64_t off = offset(ci * kChunk);
        c.load(r + off, k + off, v + off, logw + off, rs, kChunk, F(scale));
        const F* S0 = &states[size_t(ci) * NN];
        F* S1 = &states[size_t(ci + 1) * NN];
        const F* pl = c.P_last();
        for (int i = 0; i < N; i++)
          for (int j = 0; j < N; j++) S1[int64_t(i) * N + j] = S0[int64_t(i) * N + j] * pl[i];
        gemm<F>(true, false, N, N, kChunk, 1, c.kf.data(), N, c.v.data(), N, 1, S1, N);
      }

      if (d_state_final)
        std::copy_n(d_state_final + bh * NN, NN, dS.data());
      else
        std::fill(dS.begin(), dS.end(), F(0));
      for (int ci = nc - 1; ci >= 0; ci--) {
        const int t0 = ci * kChunk, L = std::min(kChunk, T - t0);
        const int64_t off = offset(t0);
        c.load(r + off, k + off, v + off, logw + off, rs, L, F(scale));
        for (int t = 0; t < L; t++) std::copy_n(d_out + off + t * rs, N, &dO[size_t(t) * N]);
        const F* S0 = &states[size_t(ci) * NN];
        const F* pl = c.P_last();

        gemm<F>(false, true, L, L, N, 1, dO.data(), N, c.v.data(), N, 0, Bm.data(), kChunk);
        c.intra_backward(A.data(), dq_off.data(), dk_off.data(), Bm.data());
        // Inter-chunk parts: dq = (dO S0ᵀ) ⊙ P, dk = (V dSᵀ) ⊙ Fs.
        gemm<F>(false, true, L, N, N, 1, dO.data(), N, S0, N, 0, dq.data(), N);
        gemm<F>(false, true, L, N, N, 1, c.v.data(), N, dS.data(), N, 0, dk.data(), N);
        for (size_t e = 0; e < size_t(L) * N; e++) {
          dq[e] *= c.P[e];
          dk[e] *= c.Fs[e];
        }
        gemm<F>(true, false, L, N, L, 1, A.data(), kChunk, dO.data(), N, 0, dv.data(), N);
        gemm<F>(false, false, L, N, N, 1, c.kf.data(), N, dS.data(), N, 1, dv.data(), N);

        // d log w: reverse cumsum of the q·dq terms, then the prefix of k·dk^inter
        // plus the decay of S0 through the whole chunk.
        F* a = acc.data();
        std::fill_n(a, N, F(0));
        for (int u = L - 1; u >= 0; u--) {
          const size_t e = size_t(u) * N;
          F* dl = d_logw + off + u * rs;
#pragma omp simd
          for (int i = 0; i < N; i++) {
            a[i] += c.q[e + i] * (dq[e + i] + dq_off[e + i]) - c.k[e + i] * dk_off[e + i];
            dl[i] = a[i];
          }
        }
        for (int i = 0; i < N; i++) {
          F s = 0;
          const F *dsi = &dS[size_t(i) * N], *s0i = S0 + int64_t(i) * N;
#pragma omp simd reduction(+ : s)
          for (int j = 0; j < N; j++) s += dsi[j] * s0i[j];
          a[i] = s * pl[i];
        }
        for (int u = 0; u < L; u++) {
          const size_t e = size_t(u) * N;
          F* dl = d_logw + off + u * rs;
#pragma omp simd
          for (int i = 0; i < N; i++) {
            dl[i] += a[i];
            a[i] += c.k[e + i] * dk[e + i];
          }
        }

        // Full dq, dk (adding the diagonal pairs), written with dv.
        for (int u = 0; u < L; u++) {
          const size_t e = size_t(u) * N;
          const F buu = Bm[size_t(u) * kChunk + u];
          F *drt = d_r + off + u * rs, *dkt = d_k + off + u * rs, *dvt = d_v + off + u * rs;
#pragma omp simd
          for (int i = 0; i < N; i++) {
            drt[i] = F(scale) * (dq[e + i] + dq_off[e + i] + buu * c.k[e + i]);
            dkt[i] = dk[e + i] + dk_off[e + i] + buu * c.q[e + i];
            dvt[i] = dv[e + i];
          }
        }

        // dS to the chunk start: diag(P_{L-1}) dS + (q ⊙ P)ᵀ dO.
        for (int i = 0; i < N; i++) {
          F* dsi = &dS[size_t(i) * N];
#pragma omp simd
          for (int j = 0; j < N; j++) dsi[j] *= pl[i];
        }
        gemm<F>(true, false, N, N, L, 1, c.qe.data(), N, dO.data(), N, 1, dS.data(), N);
      }
      if (d_state0) std::copy(dS.begin(), dS.end(), d_state0 + bh * NN);
    }
  }
}

template void wkv6_backward_t<float>(float*, float*, float*, float*, float*, const float*,
                                     const float*, const float*, const float*, const float*,
                                     const float*, const float*, int, int, int, int, double);
template void wkv6_backward_t<double>(double*, double*, double*, double*, double*, const double*,
                                      const double*, const double*, const double*, const double*,
                                      const double*, const double*, int, int, int, int, double);

void wkv6_backward(float* d_r, float* d_k, float* d_v, float* d_logw, float* d_state0,
                   const float* d_out, const float* d_state_final, const float* r, const float* k,
                   const float* v, const float* logw, const float* state0, int B, int T, int H,
                   int N, float scale) {
  wkv6_backward_t<float>(d_r, d_k, d_v, d_logw, d_state0, d_out, d_state_final, r, k, v, logw,
                         state0, B, T, H, N, scale);
}

}  // namespace radlads
