// Vectors for the WKV7 kernels with one body for both precisions: float (the
// production path) and double (the finite-difference test path), so the tests
// exercise exactly the code that trains; the float ones also serve the
// packed-weight matmuls (packed_matmul.cpp). Simd<F> is AVX2 (8 / 4 lanes);
// Simd512<F> (16 / 8 lanes) exists in the AVX-512 build of a per-ISA file
// (backend/cpu/isa.h). Everything here lives in the ISA's namespace: the same inline
// template compiled with two sets of flags must never be merged by the linker.
//
// Why intrinsics: the recurrence needs a dot product per state row (s·a, s·r,
// g·b, g·k). Written as plain loops, GCC gives each row one accumulator chain
// and a lane-by-lane horizontal sum, ~115 cycles of latency per row, and the
// kernel ran 3-4x below the FMA ports' rate. Here W rows are done together (W
// independent chains) and finished by one transpose-reduce.
#pragma once

#include <immintrin.h>

#include "backend/cpu/isa.h"

namespace radlads::RADLADS_ISA_NS::wkv7_detail {

template <typename F>
struct Simd;

template <>
struct Simd<float> {
  using V = __m256;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V x) { _mm256_storeu_ps(p, x); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }  // a·b + c
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static float sum(V a) {  // the lanes added: halves, then pairs
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
  }
  // Lane r of the result = the sum of acc[r]'s lanes, for r < W.
  static V reduce(const V* acc) {
    const V t0 = _mm256_hadd_ps(_mm256_hadd_ps(acc[0], acc[1]), _mm256_hadd_ps(acc[2], acc[3]));
    const V t1 = _mm256_hadd_ps(_mm256_hadd_ps(acc[4], acc[5]), _mm256_hadd_ps(acc[6], acc[7]));
    // t0 = [rows 0-3, lanes 0-3 | rows 0-3, lanes 4-7], t1 likewise for rows 4-7.
    return _mm256_add_ps(_mm256_permute2f128_ps(t0, t1, 0x20),
                         _mm256_permute2f128_ps(t0, t1, 0x31));
  }
};

template <>
struct Simd<double> {
  using V = __m256d;
  static constexpr int W = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, V x) { _mm256_storeu_pd(p, x); }
  static V set1(double x) { return _mm256_set1_pd(x); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V reduce(const V* acc) {
    const V t0 = _mm256_hadd_pd(acc[0], acc[1]);  // [r0 l01, r1 l01, r0 l23, r1 l23]
    const V t1 = _mm256_hadd_pd(acc[2], acc[3]);
    return _mm256_add_pd(_mm256_permute2f128_pd(t0, t1, 0x20),
                         _mm256_permute2f128_pd(t0, t1, 0x31));
  }
};

#if defined(__AVX512F__)
template <typename F>
struct Simd512;

template <>
struct Simd512<float> {
  using V = __m512;
  static constexpr int W = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V x) { _mm512_storeu_ps(p, x); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static float sum(V a) { return _mm512_reduce_add_ps(a); }
  // Lane r = the sum of acc[r]'s lanes, r < 16: pairs of rows, then quads,
  // inside each 128-bit block (unpack), then across blocks (shuffle_f32x4).
  static V reduce(const V* acc) {
    V p[8], q[4], u[2];
    for (int i = 0; i < 8; i++)  // block: [a0+a2, b0+b2, a1+a3, b1+b3]
      p[i] = _mm512_add_ps(_mm512_unpacklo_ps(acc[2 * i], acc[2 * i + 1]),
                           _mm512_unpackhi_ps(acc[2 * i], acc[2 * i + 1]));
    for (int i = 0; i < 4; i++) {  // block: rows 4i..4i+3, that block's partial
      const __m512d x = _mm512_castps_pd(p[2 * i]), y = _mm512_castps_pd(p[2 * i + 1]);
      q[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)), _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
    }
    for (int i = 0; i < 2; i++)  // [rows 8i..+3 (blocks 0,1), (2,3), rows 8i+4.. (0,1), (2,3)]
      u[i] = _mm512_add_ps(_mm512_shuffle_f32x4(q[2 * i], q[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                           _mm512_shuffle_f32x4(q[2 * i], q[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm512_add_ps(_mm512_shuffle_f32x4(u[0], u[1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(u[0], u[1], _MM_SHUFFLE(3, 1, 3, 1)));
  }
};

template <>
struct Simd512<double> {
  using V = __m512d;
  static constexpr int W = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, V x) { _mm512_storeu_pd(p, x); }
  static V set1(double x) { return _mm512_set1_pd(x); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V reduce(const V* acc) {
    V p[4], u[2];
    for (int i = 0; i < 4; i++)  // block: [a0+a1, b0+b1]
      p[i] = _mm512_add_pd(_mm512_unpacklo_pd(acc[2 * i], acc[2 * i + 1]),
                           _mm512_unpackhi_pd(acc[2 * i], acc[2 * i + 1]));
    for (int i = 0; i < 2; i++)
      u[i] = _mm512_add_pd(_mm512_shuffle_f64x2(p[2 * i], p[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                           _mm512_shuffle_f64x2(p[2 * i], p[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm512_add_pd(_mm512_shuffle_f64x2(u[0], u[1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f64x2(u[0], u[1], _MM_SHUFFLE(3, 1, 3, 1)));
  }
};
#endif

}  // namespace radlads::RADLADS_ISA_NS::wkv7_detail
