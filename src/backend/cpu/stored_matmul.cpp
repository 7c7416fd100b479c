// Linear layers on weights in their stored ggml type (stored_matmul.h).
//
// The decoders follow io's reference dequantizers (io/ggml_types.cpp,
// io/ggml_dequant_more.cpp) operation for operation — the same products and
// sums, each rounded on its own (no fused multiply-add) — so a decoded weight
// is bit-equal to dequantize_row's; tests/backend/test_stored_matmul.cpp
// checks that for every type. AVX2 (the build's floor): the stream is bound
// by memory bandwidth, not by vector width.
#if defined(__clang__)
#pragma clang fp contract(off)
#else
#pragma GCC optimize("fp-contract=off")
#endif
#include "backend/cpu/stored_matmul.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/packed_matmul.h"
#include "backend/cpu/scratch.h"
#include "core/error.h"
#include "io/ggml_blocks.h"

namespace radlads {

namespace {

// Software prefetch distance (as packed_matmul.cpp's: the hardware prefetcher
// alone does not run far enough ahead of a stream this dense in work).
constexpr int kPrefetch = 4096;

inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// 8 nibbles as int32: the low (shift 0) or high (shift 4) nibbles of p[0..8).
inline __m256i nibbles8(const uint8_t* p, int shift) {
  __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  if (shift) b = _mm_srli_epi16(b, 4);
  return _mm256_cvtepu8_epi32(_mm_and_si128(b, _mm_set1_epi8(15)));
}

// Bit `bit` of each of p[0..8), as int32 0 or 16 (a 5-bit code's fifth bit).
inline __m256i bit8_x16(const uint8_t* p, int bit) {
  const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  return _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(v, bit), _mm256_set1_epi32(1)), 4);
}

// Bits e..e+7 of a 32-bit word, one per lane, as int32 0 or 16 (Q5_0/Q5_1).
inline __m256i qh_bits_x16(uint32_t qh, int e) {
  const __m256i v = _mm256_srlv_epi32(_mm256_set1_epi32(int(qh >> e)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  return _mm256_slli_epi32(_mm256_and_si256(v, _mm256_set1_epi32(1)), 4);
}

inline __m256 to_f(__m256i v) { return _mm256_cvtepi32_ps(v); }

// A block type's decoder: kElems elements in kBytes bytes; chunk(blk, s, w)
// writes the 32 weights of sub-block s (0 .. kElems/32) of the block at blk
// as four vectors of 8.
template <GgmlType T>
struct Dec;

template <>
struct Dec<GgmlType::Q8_0> {  // y = q*d
  static constexpr int64_t kElems = 32, kBytes = 34;
  static void chunk(const uint8_t* x, int, __m256 w[4]) {
    const __m256 d = _mm256_set1_ps(half_at(x));
    for (int j = 0; j < 4; j++) {
      const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x + 2 + 8 * j));
      w[j] = _mm256_mul_ps(to_f(_mm256_cvtepi8_epi32(q)), d);
    }
  }
};

// The 32-element nibble types: element e < 16 is the low nibble of qs[e],
// element 16 + e the high nibble; chunk j (8 elements) reads qs[8(j&1)..].
inline __m256i q4_chunk(const uint8_t* qs, int j) { return nibbles8(qs + 8 * (j & 1), j < 2 ? 0 : 4); }

template <>
struct Dec<GgmlType::Q4_0> {  // y = (q-8)*d
  static constexpr int64_t kElems = 32, kBytes = 18;
  static void chunk(const uint8_t* x, int, __m256 w[4]) {
    const __m256 d = _mm256_set1_ps(half_at(x));
    for (int j = 0; j < 4; j++) w[j] = _mm256_mul_ps(to_f(_mm256_sub_epi32(q4_chunk(x + 2, j), _mm256_set1_epi32(8))), d);
  }
};

template <>
struct Dec<GgmlType::Q4_1> {  // y = q*d + m
  static constexpr int64_t kElems = 32, kBytes = 20;
  static void chunk(const uint8_t* x, int, __m256 w[4]) {
    const __m256 d = _mm256_set1_ps(half_at(x)), m = _mm256_set1_ps(half_at(x + 2));
    for (int j = 0; j < 4; j++) w[j] = _mm256_add_ps(_mm256_mul_ps(to_f(q4_chunk(x + 4, j)), d), m);
  }
};

template <>
struct Dec<GgmlType::Q5_0> {  // y = d*(q-16), the fifth bit of element e in bit e of qh
  static constexpr int64_t kElems = 32, kBytes = 22;
  static void chunk(const uint8_t* x, int, __m256 w[4]) {
    const __m256 d = _mm256_set1_ps(half_at(x));
    uint32_t qh;
    std::memcpy(&qh, x + 2, 4);
    for (int j = 0; j < 4; j++) {
      const __m256i q = _mm256_or_si256(q4_chunk(x + 6, j), qh_bits_x16(qh, 8 * j));
      w[j] = _mm256_mul_ps(d, to_f(_mm256_sub_epi32(q, _mm256_set1_epi32(16))));
    }
  }
};

template <>
struct Dec<GgmlType::Q5_1> {  // y = d*q + m
  static constexpr int64_t kElems = 32, kBytes = 24;
  static void chunk(const uint8_t* x, int, __m256 w[4]) {
    const __m256 d = _mm256_set1_ps(half_at(x)), m = _mm256_set1_ps(half_at(x + 2));
    uint32_t qh;
    std::memcpy(&qh, x + 4, 4);
    for (int j = 0; j < 4; j++) {
      const __m256i q = _mm256_or_si256(q4_chunk(x + 8, j), qh_bits_x16(qh, 8 * j));
      w[j] = _mm256_add_ps(_mm256_mul_ps(d, to_f(q)), m);
    }
  }
};

// Q4_K/Q5_K sub-block s: scale d*sc and offset dmin*m from the packed 6-bit pairs.
inline void k_sub_scale(const uint8_t* x, int s, __m256* ds, __m256* dm) {
  int sc, m;
  ggml::k_scale_min(s, x + 4, &sc, &m);
  *ds = _mm256_set1_ps(half_at(x) * float(sc));
  *dm = _mm256_set1_ps(half_at(x + 2) * float(m));
}

template <>
struct Dec<GgmlType::Q4_K> {  // y = (d*sc)*q - (dmin*m); sub-block s in nibble s&1 of qs[32(s/2) + l]
  static constexpr int64_t kElems = 256, kBytes = 144;
  static void chunk(const uint8_t* x, int s, __m256 w[4]) {
    __m256 ds, dm;
    k_sub_scale(x, s, &ds, &dm);
    const uint8_t* qs = x + 16 + 32 * (s / 2);
    for (int j = 0; j < 4; j++) w[j] = _mm256_sub_ps(_mm256_mul_ps(ds, to_f(nibbles8(qs + 8 * j, 4 * (s & 1)))), dm);
  }
};

template <>
struct Dec<GgmlType::Q5_K> {  // as Q4_K, the fifth bit of element l of sub-block s in bit s of qh[l]
  static constexpr int64_t kElems = 256, kBytes = 176;
  static void chunk(const uint8_t* x, int s, __m256 w[4]) {
    __m256 ds, dm;
    k_sub_scale(x, s, &ds, &dm);
    const uint8_t* qh = x + 16;
    const uint8_t* qs = x + 48 + 32 * (s / 2);
    for (int j = 0; j < 4; j++) {
      const __m256i q = _mm256_or_si256(nibbles8(qs + 8 * j, 4 * (s & 1)), bit8_x16(qh + 8 * j, s));
      w[j] = _mm256_sub_ps(_mm256_mul_ps(ds, to_f(q)), dm);
    }
  }
};

template <>
struct Dec<GgmlType::Q6_K> {  // y = (d*sc)*(q-32); see dequant_block_q6_k for the bit layout
  static constexpr int64_t kElems = 256, kBytes = 210;
  static void chunk(const uint8_t* x, int s, __m256 w[4]) {
    const int h = s / 4, g = s % 4;
    const uint8_t* ql = x + 64 * h + 32 * (g & 1);
    const uint8_t* qh = x + 128 + 32 * h;
    const int8_t* sc = reinterpret_cast<const int8_t*>(x + 192) + 8 * h + 2 * g;
    const float d = half_at(x + 208);
    const __m256 d0 = _mm256_set1_ps(d * float(sc[0])), d1 = _mm256_set1_ps(d * float(sc[1]));
    for (int j = 0; j < 4; j++) {
      const __m256i hi = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qh + 8 * j)));
      const __m256i h2 = _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(hi, 2 * g), _mm256_set1_epi32(3)), 4);
      const __m256i q = _mm256_sub_epi32(_mm256_or_si256(nibbles8(ql + 8 * j, g < 2 ? 0 : 4), h2), _mm256_set1_epi32(32));
      w[j] = _mm256_mul_ps(j < 2 ? d0 : d1, to_f(q));
    }
  }
};

inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

// Rows [o0, o1) of W dotted with M input rows: per sub-block, each row's 32
// products summed in a fresh register and added to its accumulator.
template <GgmlType T, int M>
void rows_dot(float* out, const float* inp, const uint8_t* w, size_t rb, int64_t C, int64_t OC, int64_t o0,
              int64_t o1) {
  using D = Dec<T>;
  constexpr int SB = int(D::kElems / 32);
  const int64_t nb = C / D::kElems;
  for (int64_t o = o0; o < o1; o++) {
    const uint8_t* row = w + rb * size_t(o);
    __m256 acc[M];
    for (int m = 0; m < M; m++) acc[m] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
      const uint8_t* blk = row + b * D::kBytes;
      for (int64_t p = 0; p < D::kBytes; p += 64) _mm_prefetch(reinterpret_cast<const char*>(blk) + kPrefetch + p, _MM_HINT_T0);
      for (int s = 0; s < SB; s++) {
        __m256 wv[4];
        D::chunk(blk, s, wv);
        for (int m = 0; m < M; m++) {
          const float* x = inp + m * C + b * D::kElems + s * 32;
          __m256 t = _mm256_mul_ps(wv[0], _mm256_loadu_ps(x));
          for (int j = 1; j < 4; j++) t = _mm256_fmadd_ps(wv[j], _mm256_loadu_ps(x + 8 * j), t);
          acc[m] = _mm256_add_ps(acc[m], t);
        }
      }
    }
    for (int m = 0; m < M; m++) out[m * OC + o] = hsum(acc[m]);
  }
}

template <GgmlType T>
void rows_decode(float* out, const uint8_t* w, size_t rb, int64_t C, int64_t r0, int64_t r1) {
  using D = Dec<T>;
  constexpr int SB = int(D::kElems / 32);
  const int64_t nb = C / D::kElems;
  for (int64_t r = r0; r < r1; r++)
    for (int64_t b = 0; b < nb; b++)
      for (int s = 0; s < SB; s++) {
        __m256 wv[4];
        Dec<T>::chunk(w + rb * size_t(r) + b * D::kBytes, s, wv);
        float* dst = out + (r - r0) * C + b * D::kElems + s * 32;
        for (int j = 0; j < 4; j++) _mm256_storeu_ps(dst + 8 * j, wv[j]);
      }
}

// ---- integer kernels: inputs quantized to Q8_0 blocks (quantize_inputs) ----
// Each input row arrives as codes xq (C int8), per-32 scales xd and per-32
// xs = xd·Σxq (for the K-quants' offsets: Σ (d·q - m)·x = d·Σq·x - m·Σx).

// Σ w·x of 32 codes in int32 (8 lanes), w signed: |w| times x with w's sign
// moved onto it (maddubs), pairs summed (madd), as packed_matmul.cpp does.
inline __m256i dot_signed(__m256i w, __m256i x) {
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}
// The same for w unsigned (0..15): maddubs takes it as it is.
inline __m256i dot_unsigned(__m256i w, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1));
}
inline __m256i load32(const void* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// The 32 codes of a Q5_0 block as int8 in [-16, 15]: nibbles as Q4_0's,
// the fifth bit of element e from bit e of qh (each byte of qh spread over
// 8 lanes, tested against its own bit).
inline __m256i q5_0_codes(const uint8_t* x) {
  uint32_t qh;
  std::memcpy(&qh, x + 2, 4);
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 6));
  const __m128i lo4 = _mm_set1_epi8(15);
  const __m256i nib = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), lo4), _mm_and_si128(v, lo4));
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(int(qh)), _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_sub_epi8(_mm256_or_si256(nib, _mm256_and_si256(set, _mm256_set1_epi8(16))), _mm256_set1_epi8(16));
}

// Q4_K's eight 6-bit scales (bytes 0..7) and mins (8..15) unpacked from its
// 12 bytes, four at a time: the word-wise form of ggml::k_scale_min.
inline void k_scales_mins(const uint8_t* s, uint8_t out[16]) {
  uint32_t u[3], r[4];
  std::memcpy(u, s, 12);
  r[0] = u[0] & 0x3f3f3f3f;                                              // scales 0..3
  r[1] = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);        // scales 4..7
  r[2] = u[1] & 0x3f3f3f3f;                                              // mins 0..3
  r[3] = ((u[2] >> 4) & 0x0f0f0f0f) | (((u[1] >> 6) & 0x03030303) << 4);  // mins 4..7
  std::memcpy(out, r, 16);
}

// One weight block against the M input rows at element offset e (block b of
// nb per row), accumulated into acc[M] (and the offsets into off[M]).
template <GgmlType T>
struct IntDec;

template <>
struct IntDec<GgmlType::Q5_0> {
  static constexpr int64_t kElems = 32, kBytes = 22;
  template <int M>
  static void block(const uint8_t* x, const int8_t* xq, const float* xd, const float*, int64_t C, int64_t b,
                    __m256 acc[M], __m256[M]) {
    const __m256i wq = q5_0_codes(x);
    const float dw = half_at(x);
    for (int m = 0; m < M; m++) {
      const __m256i dot = dot_signed(wq, load32(xq + m * C + b * 32));
      acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(dw * xd[m * (C / 32) + b]), _mm256_cvtepi32_ps(dot), acc[m]);
    }
  }
};

template <>
struct IntDec<GgmlType::Q4_K> {
  static constexpr int64_t kElems = 256, kBytes = 144;
  template <int M>
  static void block(const uint8_t* x, const int8_t* xq, const float* xd, const float* xs, int64_t C, int64_t b,
                    __m256 acc[M], __m256 off[M]) {
    alignas(16) uint8_t sm[16];
    k_scales_mins(x + 4, sm);
    const float d = half_at(x), dmin = half_at(x + 2);
    const __m256 sc = _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sm)))));
    const __m256 mn = _mm256_mul_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sm + 8)))));
    const int64_t s0 = b * 8;  // the block's first 32-element sub-block in the row
    for (int m = 0; m < M; m++) {
      // offsets: Σ_j dmin·m_j · xd_j·Σxq_j over the 8 sub-blocks at once
      off[m] = _mm256_fmadd_ps(mn, _mm256_loadu_ps(xs + m * (C / 32) + s0), off[m]);
      alignas(32) float k[8];
      _mm256_store_ps(k, _mm256_mul_ps(sc, _mm256_loadu_ps(xd + m * (C / 32) + s0)));
      const int8_t* xr = xq + m * C + b * 256;
      for (int c = 0; c < 4; c++) {
        const __m256i q = load32(x + 16 + 32 * c);
        const __m256i lo = _mm256_and_si256(q, _mm256_set1_epi8(15));
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), _mm256_set1_epi8(15));
        acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(k[2 * c]), _mm256_cvtepi32_ps(dot_unsigned(lo, load32(xr + 64 * c))), acc[m]);
        acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(k[2 * c + 1]), _mm256_cvtepi32_ps(dot_unsigned(hi, load32(xr + 64 * c + 32))), acc[m]);
      }
    }
  }
};

template <>
struct IntDec<GgmlType::Q6_K> {
  static constexpr int64_t kElems = 256, kBytes = 210;
  template <int M>
  static void block(const uint8_t* x, const int8_t* xq, const float* xd, const float*, int64_t C, int64_t b,
                    __m256 acc[M], __m256[M]) {
    const int8_t* sc = reinterpret_cast<const int8_t*>(x + 192);
    const float d = half_at(x + 208);
    __m256i codes[8];
    __m256 scale[8];  // per lane: d·sc of its 16 elements (lanes 0..3 the first 16, 4..7 the next)
    for (int s = 0; s < 8; s++) {
      const int h = s / 4, g = s % 4;
      const __m256i ql = _mm256_srli_epi16(load32(x + 64 * h + 32 * (g & 1)), 4 * (g >> 1));
      const __m256i qh = _mm256_and_si256(_mm256_srli_epi16(load32(x + 128 + 32 * h), 2 * g), _mm256_set1_epi8(3));
      codes[s] = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(ql, _mm256_set1_epi8(15)), _mm256_slli_epi16(qh, 4)),
                                 _mm256_set1_epi8(32));
      scale[s] = _mm256_setr_m128(_mm_set1_ps(d * float(sc[8 * h + 2 * g])), _mm_set1_ps(d * float(sc[8 * h + 2 * g + 1])));
    }
    for (int m = 0; m < M; m++) {
      const int8_t* xr = xq + m * C + b * 256;
      const float* dx = xd + m * (C / 32) + b * 8;
      for (int s = 0; s < 8; s++) {
        const __m256 p = _mm256_cvtepi32_ps(dot_signed(codes[s], load32(xr + 32 * s)));
        acc[m] = _mm256_fmadd_ps(_mm256_mul_ps(scale[s], _mm256_set1_ps(dx[s])), p, acc[m]);
      }
    }
  }
};

template <GgmlType T, int M>
void rows_dot_int(float* out, const int8_t* xq, const float* xd, const float* xs, const uint8_t* w, size_t rb,
                  int64_t C, int64_t OC, int64_t o0, int64_t o1) {
  using D = IntDec<T>;
  const int64_t nb = C / D::kElems;
  for (int64_t o = o0; o < o1; o++) {
    const uint8_t* row = w + rb * size_t(o);
    __m256 acc[M], off[M];
    for (int m = 0; m < M; m++) acc[m] = off[m] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
      const uint8_t* blk = row + b * D::kBytes;
      for (int64_t p = 0; p < D::kBytes; p += 64) _mm_prefetch(reinterpret_cast<const char*>(blk) + kPrefetch + p, _MM_HINT_T0);
      D::template block<M>(blk, xq, xd, xs, C, b, acc, off);
    }
    for (int m = 0; m < M; m++) out[m * OC + o] = hsum(acc[m]) - hsum(off[m]);
  }
}

using IntFn = void (*)(float*, const int8_t*, const float*, const float*, const uint8_t*, size_t, int64_t, int64_t,
                       int64_t, int64_t);

template <GgmlType T>
IntFn int_for(int M) {
  constexpr IntFn fns[kPackedRowsMax] = {rows_dot_int<T, 1>, rows_dot_int<T, 2>, rows_dot_int<T, 3>, rows_dot_int<T, 4>,
                                         rows_dot_int<T, 5>, rows_dot_int<T, 6>, rows_dot_int<T, 7>, rows_dot_int<T, 8>};
  return fns[M - 1];
}

IntFn int_kernel(GgmlType t, int M) {
  switch (t) {
    case GgmlType::Q5_0: return int_for<GgmlType::Q5_0>(M);
    case GgmlType::Q4_K: return int_for<GgmlType::Q4_K>(M);
    case GgmlType::Q6_K: return int_for<GgmlType::Q6_K>(M);
    default: return nullptr;
  }
}

using DotFn = void (*)(float*, const float*, const uint8_t*, size_t, int64_t, int64_t, int64_t, int64_t);
using DecodeFn = void (*)(float*, const uint8_t*, size_t, int64_t, int64_t, int64_t);

template <GgmlType T>
DotFn dot_for(int M) {
  constexpr DotFn fns[kPackedRowsMax] = {rows_dot<T, 1>, rows_dot<T, 2>, rows_dot<T, 3>, rows_dot<T, 4>,
                                         rows_dot<T, 5>, rows_dot<T, 6>, rows_dot<T, 7>, rows_dot<T, 8>};
  return fns[M - 1];
}

// The kernels of type t (false where it has no vector decoder).
bool kernels(GgmlType t, int M, DotFn* dot, DecodeFn* decode) {
  switch (t) {
#define RADLADS_STORED_CASE(X)               \
  case GgmlType::X:                          \
    if (dot) *dot = dot_for<GgmlType::X>(M); \
    if (decode) *decode = rows_decode<GgmlType::X>; \
    return true;
    RADLADS_STORED_CASE(Q8_0)
    RADLADS_STORED_CASE(Q4_0)
    RADLADS_STORED_CASE(Q4_1)
    RADLADS_STORED_CASE(Q5_0)
    RADLADS_STORED_CASE(Q5_1)
    RADLADS_STORED_CASE(Q4_K)
    RADLADS_STORED_CASE(Q5_K)
    RADLADS_STORED_CASE(Q6_K)
#undef RADLADS_STORED_CASE
    default: return false;
  }
}

// The float types the packed kernels stream with fp32 inputs.
bool float_format(GgmlType t, WeightFormat* f) {
  switch (t) {
    case GgmlType::F32: *f = WeightFormat::F32; return true;
    case GgmlType::F16: *f = WeightFormat::F16; return true;
    case GgmlType::BF16: *f = WeightFormat::BF16; return true;
    default: return false;
  }
}

}  // namespace

bool stored_type_streamed(GgmlType t) { return kernels(t, 1, nullptr, nullptr); }

void stored_decode_row(float* out, const uint8_t* row, GgmlType t, int64_t C) {
  DecodeFn decode = nullptr;
  if (kernels(t, 1, nullptr, &decode)) decode(out, row, 0, C, 0, 1);
  else dequantize_row(t, row, out, C);
}

void stored_decode_rows(float* out, const uint8_t* w, GgmlType t, int64_t C, int64_t r0, int64_t r1) {
  const size_t rb = ggml_row_bytes(t, C);
#pragma omp parallel for schedule(static)
  for (int64_t r = r0; r < r1; r++) stored_decode_row(out + (r - r0) * C, w + rb * size_t(r), t, C);
}

bool stored_type_integer(GgmlType t) {
  return t == GgmlType::Q8_0 || t == GgmlType::Q4_0 || int_kernel(t, 1) != nullptr;
}

void stored_matmul_forward(float* out, const float* inp, const uint8_t* w, GgmlType t, const float* bias, int64_t M,
                           int64_t C, int64_t OC, bool quantize_inputs) {
  if (M == 0 || OC == 0) return;
  WeightFormat ff;
  if (M <= kPackedStreamRowsMax && float_format(t, &ff)) return packed_matmul_forward(out, inp, w, ff, bias, M, C, OC);
  const bool integer = quantize_inputs && M <= kPackedStreamRowsMax && stored_type_integer(t);
  // Q8_0 and Q4_0 rows are packed_matmul's formats, which quantize the inputs.
  if (integer && t == GgmlType::Q8_0) return packed_matmul_forward(out, inp, w, WeightFormat::Q8_0, bias, M, C, OC);
  if (integer && t == GgmlType::Q4_0) return packed_matmul_forward(out, inp, w, WeightFormat::Q4_0, bias, M, C, OC);
  const size_t rb = ggml_row_bytes(t, C);
  if (integer) {  // Q5_0, Q4_K, Q6_K
    thread_local std::vector<int8_t> xq_buf;
    thread_local std::vector<float> xd_buf, xs_buf;
    const int64_t nb = M * C / 32;
    int8_t* xq = grown(xq_buf, size_t(M * C)).data();
    float* xd = grown(xd_buf, size_t(nb)).data();
    float* xs = grown(xs_buf, size_t(nb)).data();
    quantize_inputs_q8_0(xq, xd, inp, M * C);
    for (int64_t b = 0; b < nb; b++) {
      int sum = 0;
      for (int i = 0; i < 32; i++) sum += xq[b * 32 + i];
      xs[b] = xd[b] * float(sum);
    }
    stream_weight_rows(M, OC, [&](int64_t m0, int rows, int64_t o0, int64_t o1) {
      int_kernel(t, rows)(out + m0 * OC, xq + m0 * C, xd + m0 * (C / 32), xs + m0 * (C / 32), w, rb, C, OC, o0, o1);
    });
  } else if (M <= kPackedStreamRowsMax && stored_type_streamed(t)) {
    stream_weight_rows(M, OC, [&](int64_t m0, int rows, int64_t o0, int64_t o1) {
      DotFn dot = nullptr;
      kernels(t, rows, &dot, nullptr);
      dot(out + m0 * OC, inp + m0 * C, w, rb, C, OC, o0, o1);
    });
  } else {
    decode_chunks_sgemm(out, inp, M, C, OC,
                        [&](float* d, int64_t r0, int64_t r1) { stored_decode_rows(d, w, t, C, r0, r1); });
  }
  add_row_bias(out, bias, M, OC);
}

}  // namespace radlads
