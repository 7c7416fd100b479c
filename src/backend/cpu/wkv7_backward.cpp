// WKV7 backward: hand-written reverse sweep of the sequential recurrence.
//
// Per value row j the state row s evolves on its own:
//   s_t = s_{t-1} ⊙ w_t + sa_t b_t + v_t[j] k_t,  sa_t = s_{t-1}·a_t,  o_t[j] = scale s_t·r_t.
// With G_t = dL/dS_t (value-major, including this token's output term
// scale·do_t r_tᵀ) and gb_t[j] = G_t[j]·b_t = dL/dsa_t[j]:
//   dr_t = scale S_tᵀ do_t     dw_t = Σ_j G_t[j] ⊙ S_{t-1}[j]    da_t = S_{t-1}ᵀ gb_t
//   db_t = G_tᵀ sa_t           dk_t = G_tᵀ v_t                    dv_t = G_t k_t
//   G_{t-1} = G_t diag(w_t) + gb_t a_tᵀ + scale do_{t-1} r_{t-1}ᵀ,   dS0 = G_{-1}.
// States are checkpointed every kCkpt tokens in a first forward sweep, then
// each chunk's kCkpt+1 states are recomputed (exactly, by the same update as
// the forward) and walked in reverse. Memory per head: T/kCkpt + kCkpt + 1
// N×N states, never T of them. The update is never inverted (stepping the
// state backwards by dividing by w), so nothing amplifies rounding.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "backend/cpu/wkv7.h"
#include "backend/cpu/wkv7_simd.h"
#include "backend/cpu/wkv7_token.h"

// The per-ISA part (backend/cpu/isa.h): no std:: containers or algorithms inside it.
namespace radlads::RADLADS_ISA_NS {

namespace {

using wkv7_detail::token_update;

constexpr int kCkpt = 32;

// Row pass of one token: G += scale·do rᵀ (this token's output term), then
// gb = G b and dv = G k — dots along the key axis, W rows at a time with one
// transpose-reduce per group (see wkv7_simd.h).
template <typename F, typename S>
void row_pass(F* G, F* gb, F* dv, const F* dO, const F* r, const F* b, const F* k, F scale, int N) {
  using V = typename S::V;
  constexpr int W = S::W;
  for (int j0 = 0; j0 < N; j0 += W) {
    F* g0 = G + int64_t(j0) * N;
    V ab[W], ak[W];
#pragma GCC unroll 16
    for (int q = 0; q < W; q++) ab[q] = ak[q] = S::zero();
    for (int i = 0; i < N; i += W) {
      const V rv = S::load(r + i), bv = S::load(b + i), kv = S::load(k + i);
#pragma GCC unroll 16
      for (int q = 0; q < W; q++) {
        const V g = S::fmadd(S::set1(scale * dO[j0 + q]), rv, S::load(g0 + q * N + i));
        S::store(g0 + q * N + i, g);
        ab[q] = S::fmadd(g, bv, ab[q]);
        ak[q] = S::fmadd(g, kv, ak[q]);
      }
    }
    S::store(gb + j0, S::reduce(ab));
    S::store(dv + j0, S::reduce(ak));
  }
}

// Column pass of one token: the key-axis gradients, whose sums all run over
// the value rows j, so W key columns at a time keep five accumulators in
// registers while the rows stream past; G ← G diag(w) + gb aᵀ in the same pass.
template <typename F, typename S>
void column_pass(F* G, const F* Sn, const F* Sp, const F* sa, const F* gb, const F* dO, const F* w, const F* a,
                 const F* v, F scale, int N, F* dr, F* dw, F* da, F* db, F* dk) {
  using V = typename S::V;
  constexpr int W = S::W;
  for (int ib = 0; ib < N; ib += W) {
    V ar = S::zero(), aw = S::zero(), aa = S::zero(), ab = S::zero(), ak = S::zero();
    const V wv = S::load(w + ib), av = S::load(a + ib);
    for (int j = 0; j < N; j++) {
      const int64_t e = int64_t(j) * N + ib;
      const V g = S::load(G + e), sp = S::load(Sp + e), gbj = S::set1(gb[j]);
      ar = S::fmadd(S::load(Sn + e), S::set1(scale * dO[j]), ar);
      aw = S::fmadd(g, sp, aw);
      aa = S::fmadd(sp, gbj, aa);
      ab = S::fmadd(g, S::set1(sa[j]), ab);
      ak = S::fmadd(g, S::set1(v[j]), ak);
      S::store(G + e, S::fmadd(g, wv, S::mul(gbj, av)));
    }
    S::store(dr + ib, ar);
    S::store(dw + ib, aw);
    S::store(da + ib, aa);
    S::store(db + ib, ab);
    S::store(dk + ib, ak);
  }
}

template <typename F, typename S>
void backward_s(F* d_r, F* d_w, F* d_k, F* d_v, F* d_a, F* d_b, F* d_state0, const F* d_out,
                const F* d_state_final, const F* r, const F* w, const F* k, const F* v, const F* a, const F* b,
                const F* state0, int B, int T, int H, int N, double scale) {
  const int64_t rs = int64_t(H) * N, NN = int64_t(N) * N;
  const int nc = (T + kCkpt - 1) / kCkpt;
  const F sc = F(scale);
#pragma omp parallel
  {
    F* ckpt = wkv7_detail::thread_scratch<F, 1>(int64_t(nc) * NN);
    F* St = wkv7_detail::thread_scratch<F, 2>((kCkpt + 1) * NN);
    F* sa = wkv7_detail::thread_scratch<F, 3>(int64_t(kCkpt) * N);
    F* G = wkv7_detail::thread_scratch<F, 4>(NN);
    F* gb = wkv7_detail::thread_scratch<F, 5>(N);
#pragma omp for schedule(dynamic)
    for (int bh = 0; bh < B * H; bh++) {
      const int bi = bh / H, h = bh % H;
      auto offset = [&](int t) { return (int64_t(bi) * T + t) * rs + int64_t(h) * N; };

      // Checkpoints: the state before tokens 0, kCkpt, 2 kCkpt, ...
      if (state0)
        std::memcpy(ckpt, state0 + bh * NN, sizeof(F) * size_t(NN));
      else
        std::memset(ckpt, 0, sizeof(F) * size_t(NN));
      for (int ci = 0; ci + 1 < nc; ci++) {
        F* dst = &ckpt[size_t(ci + 1) * NN];
        for (int u = 0; u < kCkpt; u++) {
          const int64_t o = offset(ci * kCkpt + u);
          token_update<false, F, S>(dst, u == 0 ? &ckpt[size_t(ci) * NN] : dst, static_cast<F*>(nullptr),
                                    static_cast<F*>(nullptr), r + o, w + o, k + o, v + o, a + o, b + o, N, sc);
        }
      }

      if (d_state_final)
        std::memcpy(G, d_state_final + bh * NN, sizeof(F) * size_t(NN));
      else
        std::memset(G, 0, sizeof(F) * size_t(NN));
      for (int ci = nc - 1; ci >= 0; ci--) {
        const int t0 = ci * kCkpt, L = T - t0 < kCkpt ? T - t0 : kCkpt;
        std::memcpy(St, &ckpt[size_t(ci) * NN], sizeof(F) * size_t(NN));
        for (int u = 0; u < L; u++) {
          const int64_t o = offset(t0 + u);
          token_update<false, F, S>(&St[size_t(u + 1) * NN], &St[size_t(u) * NN], static_cast<F*>(nullptr),
                                    &sa[size_t(u) * N], r + o, w + o, k + o, v + o, a + o, b + o, N, sc);
        }
        for (int u = L - 1; u >= 0; u--) {
          const int64_t o = offset(t0 + u);
          const F *rt = r + o, *bt = b + o, *kt = k + o, *dot = d_out + o;
          row_pass<F, S>(G, gb, d_v + o, dot, rt, bt, kt, sc, N);
          const F *Sn = &St[size_t(u + 1) * NN], *Sp = &St[size_t(u) * NN];
          const F* sau = &sa[size_t(u) * N];
          column_pass<F, S>(G, Sn, Sp, sau, gb, dot, w + o, a + o, v + o, sc, N, d_r + o, d_w + o, d_a + o,
                            d_b + o, d_k + o);
        }
      }
      if (d_state0) std::memcpy(d_state0 + bh * NN, G, sizeof(F) * size_t(NN));
    }
  }
}

}  // namespace

template <typename F>
void wkv7_backward_impl(F* d_r, F* d_w, F* d_k, F* d_v, F* d_a, F* d_b, F* d_state0, const F* d_out,
                        const F* d_state_final, const F* r, const F* w, const F* k, const F* v, const F* a,
                        const F* b, const F* state0, int B, int T, int H, int N, double scale) {
#if defined(__AVX512F__)
  if (N % wkv7_detail::Simd512<F>::W == 0)
    return backward_s<F, wkv7_detail::Simd512<F>>(d_r, d_w, d_k, d_v, d_a, d_b, d_state0, d_out, d_state_final,
                                                   r, w, k, v, a, b, state0, B, T, H, N, scale);
#endif
  backward_s<F, wkv7_detail::Simd<F>>(d_r, d_w, d_k, d_v, d_a, d_b, d_state0, d_out, d_state_final, r, w, k, v, a,
                                      b, state0, B, T, H, N, scale);
}

template void wkv7_backward_impl<float>(float*, float*, float*, float*, float*, float*, float*, const float*,
                                        const float*, const float*, const float*, const float*, const float*,
                                        const float*, const float*, const float*, int, int, int, int, double);
template void wkv7_backward_impl<double>(double*, double*, double*, double*, double*, double*, double*,
                                         const double*, const double*, const double*, const double*,
                                         const double*, const double*, const double*, const double*,
                                         const double*, int, int, int, int, double);

}  // namespace radlads::RADLADS_ISA_NS

#if RADLADS_ISA_PRIMARY
namespace radlads {

template <typename F>
void wkv7_backward_t(F* d_r, F* d_w, F* d_k, F* d_v, F* d_a, F* d_b, F* d_state0, const F* d_out,
                     const F* d_state_final, const F* r, const F* w, const F* k, const F* v,
                     const F* a, const F* b, const F* state0, int B, int T, int H, int N,
                     double scale) {
  CHECK(B > 0 && T > 0 && H > 0 && N > 0, "wkv7_backward: bad dims B={} T={} H={} N={}", B, T, H, N);
  CHECK(N % 8 == 0, "wkv7_backward: N = {} must be a multiple of 8", N);
  RADLADS_ISA_CALL(wkv7_backward_impl<F>)(d_r, d_w, d_k, d_v, d_a, d_b, d_state0, d_out, d_state_final, r, w, k,
                                          v, a, b, state0, B, T, H, N, scale);
}

template void wkv7_backward_t<float>(float*, float*, float*, float*, float*, float*, float*,
                                     const float*, const float*, const float*, const float*,
                                     const float*, const float*, const float*, const float*,
                                     const float*, int, int, int, int, double);
template void wkv7_backward_t<double>(double*, double*, double*, double*, double*, double*, double*,
                                      const double*, const double*, const double*, const double*,
                                      const double*, const double*, const double*, const double*,
                                      const double*, int, int, int, int, double);

void wkv7_backward(float* d_r, float* d_w, float* d_k, float* d_v, float* d_a, float* d_b,
                   float* d_state0, const float* d_out, const float* d_state_final, const float* r,
                   const float* w, const float* k, const float* v, const float* a, const float* b,
                   const float* state0, int B, int T, int H, int N, float scale) {
  wkv7_backward_t<float>(d_r, d_w, d_k, d_v, d_a, d_b, d_state0, d_out, d_state_final, r, w, k, v,
                         a, b, state0, B, T, H, N, scale);
}

}  // namespace radlads
#endif
