// Linear layers on packed frozen weights (packed_matmul.h). One source for
// every ISA (backend/cpu/isa.h): the block decoders and the accumulators are
// vector registers of the build's width (zmm under AVX-512, ymm for AVX2).
// Every output is a fixed sequence of fp32 operations, so it does not depend
// on the thread count.
#include "backend/cpu/packed_matmul.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "backend/cpu/wkv7_simd.h"

namespace radlads::RADLADS_ISA_NS {

namespace {

constexpr int QK = 32;
// Software prefetch this many bytes ahead of the row stream: without it a
// Q4_0 weight streamed from memory read at 2.6 GB/s on one core of the
// Xeon VM, with it 8.7 (the hardware prefetcher alone does not run far
// enough ahead of a stream this dense in work; bench_matvec measures it).
constexpr int kPrefetch = 4096;

inline float load_half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// One vector register of floats: 16 lanes under AVX-512, 8 under AVX2.
#if defined(__AVX512F__)
using S = wkv7_detail::Simd512<float>;
inline S::V from_i32(__m512i v) { return _mm512_cvtepi32_ps(v); }
#else
using S = wkv7_detail::Simd<float>;
inline S::V from_i32(__m256i v) { return _mm256_cvtepi32_ps(v); }
#endif
using V = S::V;
constexpr int W = S::W;
constexpr int NV = QK / W;  // vectors per block

// Chunk j (W weights) of block b of a row as floats; for the quantized
// formats without the block's scale (block_scale), which the caller applies
// once per block.
template <WeightFormat F>
inline V decode_vec(const uint8_t* row, int64_t b, int j) {
  if constexpr (F == WeightFormat::F32) {
    return S::load(reinterpret_cast<const float*>(row) + b * QK + j * W);
  } else if constexpr (F == WeightFormat::F16 || F == WeightFormat::BF16) {
    const uint8_t* p = row + (b * QK + j * W) * 2;
#if defined(__AVX512F__)
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    if constexpr (F == WeightFormat::F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
#else
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    if constexpr (F == WeightFormat::F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
#endif
  } else if constexpr (F == WeightFormat::Q8_0) {
    const uint8_t* q = row + b * 34 + 2 + j * W;
#if defined(__AVX512F__)
    return from_i32(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q))));
#else
    return from_i32(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q))));
#endif
  } else {  // Q4_0: element i < 16 is byte i's low nibble, element 16 + i its high nibble; minus 8
    const uint8_t* q = row + b * 18 + 2;
    const __m128i lo4 = _mm_set1_epi8(15);
#if defined(__AVX512F__)
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const __m128i nib = j == 0 ? _mm_and_si128(bytes, lo4) : _mm_and_si128(_mm_srli_epi16(bytes, 4), lo4);
    return from_i32(_mm512_sub_epi32(_mm512_cvtepu8_epi32(nib), _mm512_set1_epi32(8)));
#else
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + (j & 1) * 8));
    const __m128i nib = j < 2 ? _mm_and_si128(bytes, lo4) : _mm_and_si128(_mm_srli_epi16(bytes, 4), lo4);
    return from_i32(_mm256_sub_epi32(_mm256_cvtepu8_epi32(nib), _mm256_set1_epi32(8)));
#endif
  }
}

template <WeightFormat F>
constexpr bool kQuantized = F == WeightFormat::Q8_0 || F == WeightFormat::Q4_0;

template <WeightFormat F>
inline float block_scale(const uint8_t* row, int64_t b) {
  return load_half(row + b * (F == WeightFormat::Q8_0 ? 34 : 18));
}

template <WeightFormat F>
constexpr int64_t kBlockBytes = F == WeightFormat::F32 ? 128 : F == WeightFormat::Q8_0 ? 34 : F == WeightFormat::Q4_0 ? 18 : 64;

// The cache lines kPrefetch bytes past block b (a 128-byte f32 block spans two).
template <WeightFormat F>
inline void prefetch_block(const uint8_t* row, int64_t b) {
  const char* p = reinterpret_cast<const char*>(row + b * kBlockBytes<F>) + kPrefetch;
  _mm_prefetch(p, _MM_HINT_T0);
  if constexpr (kBlockBytes<F> > 64) _mm_prefetch(p + 64, _MM_HINT_T0);
}

// Element c of a row of a float format (the tail after the last whole block).
template <WeightFormat F>
inline float decode_one(const uint8_t* row, int64_t c) {
  if constexpr (F == WeightFormat::F32) {
    float v;
    std::memcpy(&v, row + 4 * c, 4);
    return v;
  } else if constexpr (F == WeightFormat::F16) {
    return load_half(row + 2 * c);
  } else {
    uint16_t h;
    std::memcpy(&h, row + 2 * c, 2);
    const uint32_t u = uint32_t(h) << 16;
    float v;
    std::memcpy(&v, &u, 4);
    return v;
  }
}

// Rows [o0, o1) of W dotted with the M input rows. Per block, each input row
// gets the block's products summed in a fresh register (then scaled once for
// the quantized formats) and added to its accumulator: the only dependency
// carried between blocks is one add (or FMA) per row.
template <WeightFormat F, int M>
void rows_dot(float* out, const float* inp, const uint8_t* w, size_t rb, int64_t C, int64_t OC, int64_t o0,
              int64_t o1) {
  const int64_t nb = C / QK;
  for (int64_t o = o0; o < o1; o++) {
    const uint8_t* row = w + int64_t(rb) * o;
    V acc[M];
    for (int m = 0; m < M; m++) acc[m] = S::zero();
    for (int64_t b = 0; b < nb; b++) {
      prefetch_block<F>(row, b);
      V wv[NV];
      for (int j = 0; j < NV; j++) wv[j] = decode_vec<F>(row, b, j);
      for (int m = 0; m < M; m++) {
        const float* x = inp + m * C + b * QK;
        V t = S::mul(wv[0], S::load(x));
        for (int j = 1; j < NV; j++) t = S::fmadd(wv[j], S::load(x + j * W), t);
        if constexpr (kQuantized<F>)
          acc[m] = S::fmadd(S::set1(block_scale<F>(row, b)), t, acc[m]);
        else
          acc[m] = S::add(acc[m], t);
      }
    }
    for (int m = 0; m < M; m++) {
      float tail = 0.0f;
      if constexpr (!kQuantized<F>)
        for (int64_t c = nb * QK; c < C; c++) tail += decode_one<F>(row, c) * inp[m * C + c];
      out[m * OC + o] = S::sum(acc[m]) + tail;
    }
  }
}

// ---- the quantized formats against inputs quantized to Q8_0 blocks ----
// 32 codes of block b as int8: Q8_0's as stored, Q4_0's nibbles minus 8
// (low nibbles are elements 0..15, high nibbles 16..31).
template <WeightFormat F>
inline __m256i load_codes(const uint8_t* row, int64_t b) {
  if constexpr (F == WeightFormat::Q8_0) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + b * 34 + 2));
  } else {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + b * 18 + 2));
    const __m128i lo4 = _mm_set1_epi8(15);
    const __m256i n = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), lo4), _mm_and_si128(v, lo4));
    return _mm256_sub_epi8(n, _mm256_set1_epi8(8));
  }
}

// Σ w·x of a block in int32 (8 lanes): |w| as unsigned bytes times x with
// w's sign moved onto it (maddubs), pairs summed to int32 (madd). Codes are
// within ±127, so no pair saturates int16.
inline __m256i dot_codes(__m256i w, __m256i x) {
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

template <WeightFormat F, int M>
void rows_dot_codes(float* out, const int8_t* xq, const float* xd, const uint8_t* w, size_t rb, int64_t C,
                    int64_t OC, int64_t o0, int64_t o1) {
  const int64_t nb = C / QK;
  for (int64_t o = o0; o < o1; o++) {
    const uint8_t* row = w + int64_t(rb) * o;
    __m256 acc[M];
    for (int m = 0; m < M; m++) acc[m] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
      prefetch_block<F>(row, b);
      const __m256i wq = load_codes<F>(row, b);
      const float dw = block_scale<F>(row, b);
      for (int m = 0; m < M; m++) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + m * C + b * QK));
        acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(dw * xd[m * nb + b]), _mm256_cvtepi32_ps(dot_codes(wq, xv)), acc[m]);
      }
    }
    for (int m = 0; m < M; m++) out[m * OC + o] = wkv7_detail::Simd<float>::sum(acc[m]);
  }
}

template <WeightFormat F>
void rows_dot_codes_m(float* out, const int8_t* xq, const float* xd, const uint8_t* w, size_t rb, int M, int64_t C,
                      int64_t OC, int64_t o0, int64_t o1) {
  switch (M) {
    case 1: return rows_dot_codes<F, 1>(out, xq, xd, w, rb, C, OC, o0, o1);
    case 2: return rows_dot_codes<F, 2>(out, xq, xd, w, rb, C, OC, o0, o1);
    case 3: return rows_dot_codes<F, 3>(out, xq, xd, w, rb, C, OC, o0, o1);
    case 4: return rows_dot_codes<F, 4>(out, xq, xd, w, rb, C, OC, o0, o1);
    case 5: return rows_dot_codes<F, 5>(out, xq, xd, w, rb, C, OC, o0, o1);
    case 6: return rows_dot_codes<F, 6>(out, xq, xd, w, rb, C, OC, o0, o1);
    case 7: return rows_dot_codes<F, 7>(out, xq, xd, w, rb, C, OC, o0, o1);
    default: return rows_dot_codes<F, 8>(out, xq, xd, w, rb, C, OC, o0, o1);
  }
}

template <WeightFormat F>
void rows_dot_m(float* out, const float* inp, const uint8_t* w, size_t rb, int M, int64_t C, int64_t OC, int64_t o0,
                int64_t o1) {
  switch (M) {
    case 1: return rows_dot<F, 1>(out, inp, w, rb, C, OC, o0, o1);
    case 2: return rows_dot<F, 2>(out, inp, w, rb, C, OC, o0, o1);
    case 3: return rows_dot<F, 3>(out, inp, w, rb, C, OC, o0, o1);
    case 4: return rows_dot<F, 4>(out, inp, w, rb, C, OC, o0, o1);
    case 5: return rows_dot<F, 5>(out, inp, w, rb, C, OC, o0, o1);
    case 6: return rows_dot<F, 6>(out, inp, w, rb, C, OC, o0, o1);
    case 7: return rows_dot<F, 7>(out, inp, w, rb, C, OC, o0, o1);
    default: return rows_dot<F, 8>(out, inp, w, rb, C, OC, o0, o1);
  }
}

template <WeightFormat F>
void rows_decode(float* out, const uint8_t* w, size_t rb, int64_t C, int64_t r0, int64_t r1) {
  const int64_t nb = C / QK;
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t* row = w + int64_t(rb) * r;
    float* dst = out + (r - r0) * C;
    for (int64_t b = 0; b < nb; b++) {
      float y[QK];
      for (int j = 0; j < NV; j++) {
        const V v = decode_vec<F>(row, b, j);
        std::memcpy(y + j * W, &v, sizeof v);
      }
      if constexpr (kQuantized<F>) {
        const float d = block_scale<F>(row, b);  // ggml's order: code × scale
        for (int i = 0; i < QK; i++) y[i] *= d;
      }
      std::memcpy(dst + b * QK, y, sizeof y);
    }
    if constexpr (!kQuantized<F>)
      for (int64_t c = nb * QK; c < C; c++) dst[c] = decode_one<F>(row, c);
  }
}

}  // namespace

void packed_rows_dot(float* out, const float* inp, const uint8_t* w, size_t row_bytes, WeightFormat f, int M,
                     int64_t C, int64_t OC, int64_t o0, int64_t o1) {
  switch (f) {
    case WeightFormat::F32: return rows_dot_m<WeightFormat::F32>(out, inp, w, row_bytes, M, C, OC, o0, o1);
    case WeightFormat::F16: return rows_dot_m<WeightFormat::F16>(out, inp, w, row_bytes, M, C, OC, o0, o1);
    case WeightFormat::BF16: return rows_dot_m<WeightFormat::BF16>(out, inp, w, row_bytes, M, C, OC, o0, o1);
    case WeightFormat::Q8_0: return rows_dot_m<WeightFormat::Q8_0>(out, inp, w, row_bytes, M, C, OC, o0, o1);
    case WeightFormat::Q4_0: return rows_dot_m<WeightFormat::Q4_0>(out, inp, w, row_bytes, M, C, OC, o0, o1);
  }
}

void packed_rows_dot_codes(float* out, const int8_t* xq, const float* xd, const uint8_t* w, size_t row_bytes,
                           WeightFormat f, int M, int64_t C, int64_t OC, int64_t o0, int64_t o1) {
  if (f == WeightFormat::Q8_0) return rows_dot_codes_m<WeightFormat::Q8_0>(out, xq, xd, w, row_bytes, M, C, OC, o0, o1);
  rows_dot_codes_m<WeightFormat::Q4_0>(out, xq, xd, w, row_bytes, M, C, OC, o0, o1);
}

void packed_rows_decode(float* out, const uint8_t* w, size_t row_bytes, WeightFormat f, int64_t C, int64_t r0,
                        int64_t r1) {
  switch (f) {
    case WeightFormat::F32: return rows_decode<WeightFormat::F32>(out, w, row_bytes, C, r0, r1);
    case WeightFormat::F16: return rows_decode<WeightFormat::F16>(out, w, row_bytes, C, r0, r1);
    case WeightFormat::BF16: return rows_decode<WeightFormat::BF16>(out, w, row_bytes, C, r0, r1);
    case WeightFormat::Q8_0: return rows_decode<WeightFormat::Q8_0>(out, w, row_bytes, C, r0, r1);
    case WeightFormat::Q4_0: return rows_decode<WeightFormat::Q4_0>(out, w, row_bytes, C, r0, r1);
  }
}

}  // namespace radlads::RADLADS_ISA_NS

#if RADLADS_ISA_PRIMARY
#include <cmath>
#include <vector>

#include "backend/cpu/blas.h"
#include "backend/cpu/scratch.h"
#include "core/error.h"
#include "core/fp16.h"
#include "io/ggml_types.h"

namespace radlads {

void quantize_inputs_q8_0(int8_t* q, float* d, const float* x, int64_t n) {
  for (int64_t b = 0; b < n / 32; b++) {
    const float* xb = x + b * 32;
    float amax = 0.0f;
    for (int i = 0; i < 32; i++) amax = std::max(amax, std::fabs(xb[i]));
    const float db = amax / 127.0f, id = db != 0.0f ? 1.0f / db : 0.0f;
    for (int i = 0; i < 32; i++) q[b * 32 + i] = int8_t(std::round(xb[i] * id));
    d[b] = f16_to_f32(f32_to_f16(db));
  }
}

void packed_matmul_forward(float* out, const float* inp, const uint8_t* w, WeightFormat f, const float* bias,
                           int64_t M, int64_t C, int64_t OC) {
  if (M == 0 || OC == 0) return;
  const size_t rb = weight_format_row_bytes(f, C);
  if (M <= kPackedStreamRowsMax && (f == WeightFormat::Q8_0 || f == WeightFormat::Q4_0)) {
    // The inputs quantized to Q8_0 blocks first, as llama.cpp does: the
    // products are then integer dot products, one scale per block pair.
    thread_local std::vector<int8_t> xq_buf;
    thread_local std::vector<float> xd_buf;
    int8_t* xq = grown(xq_buf, size_t(M * C)).data();
    float* xd = grown(xd_buf, size_t(M * C / 32)).data();
    quantize_inputs_q8_0(xq, xd, inp, M * C);
    auto dot = RADLADS_ISA_CALL(packed_rows_dot_codes);
    stream_weight_rows(M, OC, [&](int64_t m0, int rows, int64_t o0, int64_t o1) {
      dot(out + m0 * OC, xq + m0 * C, xd + m0 * (C / 32), w, rb, f, rows, C, OC, o0, o1);
    });
  } else if (M <= kPackedStreamRowsMax) {
    auto dot = RADLADS_ISA_CALL(packed_rows_dot);
    stream_weight_rows(M, OC, [&](int64_t m0, int rows, int64_t o0, int64_t o1) {
      dot(out + m0 * OC, inp + m0 * C, w, rb, f, rows, C, OC, o0, o1);
    });
  } else {
    decode_chunks_sgemm(out, inp, M, C, OC,
                        [&](float* d, int64_t r0, int64_t r1) { packed_decode_rows(d, w, f, C, r0, r1); });
  }
  add_row_bias(out, bias, M, OC);
}

void add_row_bias(float* out, const float* bias, int64_t M, int64_t OC) {
  if (!bias) return;
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; m++)
    for (int64_t o = 0; o < OC; o++) out[m * OC + o] += bias[o];
}

void packed_decode_rows(float* out, const uint8_t* w, WeightFormat f, int64_t C, int64_t r0, int64_t r1) {
  const size_t rb = weight_format_row_bytes(f, C);
  auto decode = RADLADS_ISA_CALL(packed_rows_decode);
  constexpr int64_t kRows = 16;
  const int64_t nblk = (r1 - r0 + kRows - 1) / kRows;
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < nblk; j++) {
    const int64_t a = r0 + j * kRows, b = std::min(r1, a + kRows);
    decode(out + (a - r0) * C, w, rb, f, C, a, b);
  }
}

void pack_weight(uint8_t* out, const float* w, WeightFormat f, int64_t OC, int64_t C) {
  const size_t rb = weight_format_row_bytes(f, C);
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < OC; o++) {
    const float* src = w + o * C;
    uint8_t* dst = out + int64_t(rb) * o;
    switch (f) {
      case WeightFormat::F32: std::memcpy(dst, src, rb); break;
      case WeightFormat::F16:
        for (int64_t c = 0; c < C; c++) {
          const uint16_t h = f32_to_f16(src[c]);
          std::memcpy(dst + 2 * c, &h, 2);
        }
        break;
      case WeightFormat::BF16:
        for (int64_t c = 0; c < C; c++) {
          const uint16_t h = f32_to_bf16(src[c]);
          std::memcpy(dst + 2 * c, &h, 2);
        }
        break;
      case WeightFormat::Q8_0:
      case WeightFormat::Q4_0: {
        const std::vector<uint8_t> q = quantize_row(f == WeightFormat::Q8_0 ? GgmlType::Q8_0 : GgmlType::Q4_0, src, C);
        std::memcpy(dst, q.data(), rb);
        break;
      }
    }
  }
}

}  // namespace radlads
#endif
