// The WKV7 one-token update of one head, shared by the fast forward, the decode
// step (wkv7.cpp) and the backward's state recomputation (wkv7_backward.cpp).
#pragma once

#include <cstdint>
#include <cstdlib>

#include "backend/cpu/wkv7_simd.h"

namespace radlads::RADLADS_ISA_NS::wkv7_detail {

// A per-thread scratch array of at least n elements, kept between calls
// (OpenMP's workers live as long as the process, so it is never freed): a
// call after the first allocates nothing. Slot tells apart the buffers one
// thread holds at once. Uninitialised, like malloc; malloc because per-ISA
// code uses no std:: containers.
template <typename F, int Slot>
F* thread_scratch(int64_t n) {
  thread_local F* p = nullptr;
  thread_local int64_t cap = 0;
  if (n > cap) {
    std::free(p);
    p = static_cast<F*>(std::malloc(sizeof(F) * size_t(n)));
    cap = n;
  }
  return p;
}

// dst = src (diag(w) + aᵀ b) + vᵀ k for a value-major N×N head state (dst may
// equal src: each element is read before it is written). With kOut,
// o[j] = scale · dst_j·r; sa (nullable) receives s_j·a, the rank-1
// coefficients the backward needs. N % W == 0.
//
// Rows go W at a time: pass 1 forms the W dots s_j·a with W independent
// accumulators, pass 2 updates the rows and forms the W readouts, each
// finished by one transpose-reduce. Per state element: 1 FMA in pass 1, then
// a mul and 2 FMAs for the update and 1 FMA for the readout; the w, b, k, r
// vectors stay in registers across the W rows of a group.
template <bool kOut, typename F, typename S = Simd<F>>
inline void token_update(F* dst, const F* src, F* o, F* sa, const F* r, const F* w, const F* k,
                         const F* v, const F* a, const F* b, int N, F scale) {
  using V = typename S::V;
  constexpr int W = S::W;
  alignas(64) F sag[W];
  for (int j0 = 0; j0 < N; j0 += W) {
    const F* s0 = src + static_cast<long>(j0) * N;
    F* d0 = dst + static_cast<long>(j0) * N;
    V acc[W];
#pragma GCC unroll 16
    for (int q = 0; q < W; q++) acc[q] = S::zero();
    for (int i = 0; i < N; i += W) {
      const V av = S::load(a + i);
#pragma GCC unroll 16
      for (int q = 0; q < W; q++) acc[q] = S::fmadd(S::load(s0 + q * N + i), av, acc[q]);
    }
    const V sav = S::reduce(acc);
    S::store(sag, sav);
    if (sa) S::store(sa + j0, sav);
#pragma GCC unroll 16
    for (int q = 0; q < W; q++) acc[q] = S::zero();
    for (int i = 0; i < N; i += W) {
      const V wv = S::load(w + i), bv = S::load(b + i), kv = S::load(k + i);
      [[maybe_unused]] V rv;
      if constexpr (kOut) rv = S::load(r + i);
#pragma GCC unroll 16
      for (int q = 0; q < W; q++) {
        const V x = S::fmadd(S::load(s0 + q * N + i), wv,
                             S::fmadd(S::set1(sag[q]), bv, S::mul(S::set1(v[j0 + q]), kv)));
        S::store(d0 + q * N + i, x);
        if constexpr (kOut) acc[q] = S::fmadd(x, rv, acc[q]);
      }
    }
    if constexpr (kOut) S::store(o + j0, S::mul(S::reduce(acc), S::set1(scale)));
  }
}

}  // namespace radlads::RADLADS_ISA_NS::wkv7_detail
