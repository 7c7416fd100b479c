// AVX2 vectors for the WKV7 kernels with one body for both precisions: float
// (8 lanes, the production path) and double (4 lanes, the finite-difference
// test path), so the tests exercise exactly the code that trains.
//
// Why intrinsics: the recurrence needs a dot product per state row (s·a, s·r,
// g·b, g·k). Written as plain loops, GCC gives each row one accumulator chain
// and a lane-by-lane horizontal sum, ~115 cycles of latency per row, and the
// kernel ran 3-4x below the FMA ports' rate. Here W rows are done together (W
// independent chains) and finished by one transpose-reduce.
#pragma once

#include <immintrin.h>

namespace radlads::wkv7_detail {

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

}  // namespace radlads::wkv7_detail
