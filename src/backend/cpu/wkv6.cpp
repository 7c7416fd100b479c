// WKV6 forward: the naive per-token oracle, the chunked parallel form, and the
// single-token decode step. Maths and layouts in wkv6.h; chunk numerics in
// wkv6_chunk.h. Work is split over (batch, head) with OpenMP; OpenBLAS, called
// inside the parallel region, runs single-threaded there.
#include "backend/cpu/wkv6.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "backend/cpu/blas.h"
#include "backend/cpu/wkv6_chunk.h"
#include "backend/cpu/scratch.h"

namespace radlads {

using wkv6_detail::Chunk;
using wkv6_detail::FlushDenormals;
using wkv6_detail::kChunk;

static void check_dims(int B, int T, int H, int N) {
  CHECK(B > 0 && T > 0 && H > 0 && N > 0, "wkv6: bad dims B={} T={} H={} N={}", B, T, H, N);
}

static void check_simd(int N) {
  CHECK(N % 8 == 0, "wkv6: N = {} must be a multiple of 8 for the chunked kernels", N);
}

template <typename F>
void wkv6_forward_naive_t(F* out, F* state, const F* r, const F* k, const F* v, const F* logw,
                          int B, int T, int H, int N, double scale) {
  check_dims(B, T, H, N);
  const int64_t rs = int64_t(H) * N, NN = int64_t(N) * N;
  std::vector<double> S(size_t(NN), 0.0);
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      F* st = state ? state + (int64_t(b) * H + h) * NN : nullptr;
      for (int64_t e = 0; e < NN; e++) S[size_t(e)] = st ? double(st[e]) : 0.0;
      for (int t = 0; t < T; t++) {
        const int64_t o = (int64_t(b) * T + t) * rs + int64_t(h) * N;
        for (int i = 0; i < N; i++) {  // S = diag(w) S + kᵀ v
          const double wi = std::exp(double(logw[o + i])), ki = k[o + i];
          for (int j = 0; j < N; j++)
            S[size_t(i) * N + j] = wi * S[size_t(i) * N + j] + ki * double(v[o + j]);
        }
        for (int j = 0; j < N; j++) {  // o = (r·scale) S
          double acc = 0;
          for (int i = 0; i < N; i++) acc += double(r[o + i]) * S[size_t(i) * N + j];
          out[o + j] = F(acc * scale);
        }
      }
      if (st)
        for (int64_t e = 0; e < NN; e++) st[e] = F(S[size_t(e)]);
    }
}

template <typename F>
void wkv6_forward_t(F* out, F* state, const F* r, const F* k, const F* v, const F* logw, int B,
                    int T, int H, int N, double scale) {
  check_dims(B, T, H, N);
  check_simd(N);
  const int64_t rs = int64_t(H) * N, NN = int64_t(N) * N;
#pragma omp parallel
  {
    FlushDenormals ftz;
    thread_local Chunk<F> c_tl(0);
    if (c_tl.N != N) c_tl = Chunk<F>(N);
    Chunk<F>& c = c_tl;
    thread_local std::vector<F> A_tl, own_state_tl;
    std::vector<F>& A = grown(A_tl, size_t(kChunk) * kChunk);
    std::vector<F>& own_state = own_state_tl;
#pragma omp for schedule(dynamic)
    for (int bh = 0; bh < B * H; bh++) {
      const int b = bh / H, h = bh % H;
      F* S = state ? state + bh * NN : nullptr;
      if (!S) {
        own_state.assign(size_t(NN), F(0));
        S = own_state.data();
      }
      for (int t0 = 0; t0 < T; t0 += kChunk) {
        const int L = std::min(kChunk, T - t0);
        const int64_t off = (int64_t(b) * T + t0) * rs + int64_t(h) * N;
        c.load(r + off, k + off, v + off, logw + off, rs, L, F(scale));
        c.intra(A.data());
        F* o = out + off;
        // Inter-chunk: o_t = (q_t ⊙ P_t) S0, S0 the state before the chunk.
        gemm<F>(false, false, L, N, N, 1, c.qe.data(), N, S, N, 0, o, int(rs));
        // Intra-chunk: o_t += Σ_{s≤t} A_ts v_s.
        gemm<F>(false, false, L, N, L, 1, A.data(), kChunk, c.v.data(), N, 1, o, int(rs));
        // State to the chunk end: S ← diag(P_{L-1}) S + (k ⊙ Fs)ᵀ V.
        const F* pl = c.P_last();
        for (int i = 0; i < N; i++) {
          F* si = S + int64_t(i) * N;
#pragma omp simd
          for (int j = 0; j < N; j++) si[j] *= pl[i];
        }
        gemm<F>(true, false, N, N, L, 1, c.kf.data(), N, c.v.data(), N, 1, S, N);
      }
    }
  }
}

template <typename F>
void wkv6_step_t(F* out, F* state, const F* r, const F* k, const F* v, const F* logw, int B, int H,
                 int N, double scale) {
  check_dims(B, 1, H, N);
  CHECK(state != nullptr, "wkv6_step needs a state");
  const int64_t NN = int64_t(N) * N;
  int bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad)
  for (int bh = 0; bh < B * H; bh++) {
    const int64_t o = int64_t(bh) * N;
    F* S = state + bh * NN;
    F* ot = out + o;
    std::fill_n(ot, N, F(0));
    for (int i = 0; i < N; i++) {
      bad += !(logw[o + i] <= F(0));
      const F wi = std::exp(logw[o + i]), ki = k[o + i], qi = r[o + i] * F(scale);
      const F* vt = v + o;
      F* si = S + int64_t(i) * N;
#pragma omp simd
      for (int j = 0; j < N; j++) {
        si[j] = si[j] * wi + ki * vt[j];
        ot[j] += qi * si[j];
      }
    }
  }
  CHECK(bad == 0, "wkv6_step: log w must be <= 0; {} entries are not", bad);
}

#define RADLADS_WKV6_INSTANTIATE(F)                                                               \
  template void wkv6_forward_naive_t<F>(F*, F*, const F*, const F*, const F*, const F*, int, int, \
                                        int, int, double);                                        \
  template void wkv6_forward_t<F>(F*, F*, const F*, const F*, const F*, const F*, int, int, int,  \
                                  int, double);                                                   \
  template void wkv6_step_t<F>(F*, F*, const F*, const F*, const F*, const F*, int, int, int,     \
                               double);
RADLADS_WKV6_INSTANTIATE(float)
RADLADS_WKV6_INSTANTIATE(double)
#undef RADLADS_WKV6_INSTANTIATE

void wkv6_forward_naive(float* out, float* state, const float* r, const float* k, const float* v,
                        const float* logw, int B, int T, int H, int N, float scale) {
  wkv6_forward_naive_t<float>(out, state, r, k, v, logw, B, T, H, N, scale);
}

void wkv6_forward(float* out, float* state, const float* r, const float* k, const float* v,
                  const float* logw, int B, int T, int H, int N, float scale) {
  wkv6_forward_t<float>(out, state, r, k, v, logw, B, T, H, N, scale);
}

void wkv6_step(float* out, float* state, const float* r, const float* k, const float* v,
               const float* logw, int B, int H, int N, float scale) {
  wkv6_step_t<float>(out, state, r, k, v, logw, B, H, N, scale);
}

}  // namespace radlads
