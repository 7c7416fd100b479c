// Dequantizers of the ggml types llama.cpp's presets write beyond the basic
// ones: Q5_0 and Q5_1 (Q4_K_M files use Q5_0 for some tensors), the K-quants
// Q2_K, Q3_K, Q5_K, and the non-linear IQ4_NL and IQ4_XS. Layouts follow
// ggml-common.h's block structs; every product and sum is rounded on its own,
// in the order gguf-py's numpy computes it, so results are bit-identical
// with gguf-py (tests/io/test_ggml_types.cpp).
#if defined(__clang__)
#pragma clang fp contract(off)
#else
#pragma GCC optimize("fp-contract=off")
#endif

#include "core/fp16.h"
#include "io/ggml_blocks.h"

namespace radlads::ggml {

namespace {

// IQ4's 16 code points (ggml's kvalues_iq4nl).
constexpr int8_t kIq4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Q5's 5-bit codes: low nibbles as Q4 (element j < 16 in the low nibble of
// qs[j], element j >= 16 in the high nibble of qs[j-16]), the fifth bit of
// element j in bit j of the 32-bit qh.
int q5_code(const uint8_t* qs, uint32_t qh, int j) {
  const int lo = j < QK / 2 ? (qs[j] & 0x0F) : (qs[j - QK / 2] >> 4);
  return lo | int(((qh >> j) & 1u) << 4);
}

}  // namespace

// Q5_0: fp16 d, u32 qh, 16 bytes of nibbles; y = d*(q-16).
void dequant_block_q5_0(const uint8_t* x, float* y) {
  const float d = f16_to_f32(load_u16(x));
  const uint32_t qh = load_u32(x + 2);
  for (int j = 0; j < QK; ++j) y[j] = d * float(q5_code(x + 6, qh, j) - 16);
}

// Q5_1: fp16 d, fp16 m, u32 qh, 16 bytes of nibbles; y = d*q + m.
void dequant_block_q5_1(const uint8_t* x, float* y) {
  const float d = f16_to_f32(load_u16(x));
  const float m = f16_to_f32(load_u16(x + 2));
  const uint32_t qh = load_u32(x + 4);
  for (int j = 0; j < QK; ++j) y[j] = d * float(q5_code(x + 8, qh, j)) + m;
}

// Q2_K: 16 scale bytes (low nibble scale, high nibble min), 64 bytes of
// 2-bit codes, fp16 d, fp16 dmin. Element e = 128h + 32s + l is bits 2s..2s+1
// of qs[32h + l]; sub-block e/16. y = (d*scale)*q - (dmin*min).
void dequant_block_q2_k(const uint8_t* x, float* y) {
  const uint8_t* scales = x;
  const uint8_t* qs = x + QK_K / 16;
  const float d = f16_to_f32(load_u16(x + QK_K / 16 + QK_K / 4));
  const float dmin = f16_to_f32(load_u16(x + QK_K / 16 + QK_K / 4 + 2));
  for (int e = 0; e < QK_K; ++e) {
    const int h = e / 128, s = (e / 32) % 4, l = e % 32, sb = e / 16;
    const float dl = d * float(scales[sb] & 0x0F), ml = dmin * float(scales[sb] >> 4);
    y[e] = dl * float((qs[32 * h + l] >> (2 * s)) & 3) - ml;
  }
}

// Q3_K: 32 bytes hmask, 64 bytes of 2-bit codes, 12 bytes of 6-bit scales,
// fp16 d. Element e = 128h + 32s + l: low bits as Q2_K, high bit e/32 of
// hmask[e%32]; q = low - 4 when that bit is clear. Scale i (sub-block e/16):
// low 4 bits from byte i (i < 8) or the high nibble of byte i-8, top 2 bits
// from bits 2(i/4).. of byte 8 + i%4; stored as scale + 32. y = (d*scale)*q.
void dequant_block_q3_k(const uint8_t* x, float* y) {
  const uint8_t* hmask = x;
  const uint8_t* qs = x + QK_K / 8;
  const uint8_t* sc = x + QK_K / 8 + QK_K / 4;
  const float d = f16_to_f32(load_u16(x + QK_K / 8 + QK_K / 4 + 12));
  for (int e = 0; e < QK_K; ++e) {
    const int h = e / 128, s = (e / 32) % 4, l = e % 32, i = e / 16;
    const int lo = i < 8 ? (sc[i] & 0x0F) : (sc[i - 8] >> 4);
    const int hi = (sc[8 + i % 4] >> (2 * (i / 4))) & 3;
    const int scale = int(int8_t(uint8_t(lo | (hi << 4)))) - 32;
    const int low = (qs[32 * h + l] >> (2 * s)) & 3;
    const int q = low - (((hmask[e % 32] >> (e / 32)) & 1) ? 0 : 4);
    y[e] = (d * float(scale)) * float(q);
  }
}

// Q5_K: fp16 d, fp16 dmin, 12 scale bytes (as Q4_K), 32 bytes qh, 128 bytes of
// nibbles. Sub-block j = 2c + k (32 elements) takes nibble k of qs[32c + l]
// and its fifth bit from bit j of qh[l]. y = (d*scale)*q - (dmin*min).
void dequant_block_q5_k(const uint8_t* x, float* y) {
  const float d = f16_to_f32(load_u16(x));
  const float dmin = f16_to_f32(load_u16(x + 2));
  const uint8_t* scales = x + 4;
  const uint8_t* qh = x + 16;
  const uint8_t* qs = x + 16 + QK_K / 8;
  for (int j = 0; j < 8; ++j) {
    int sc, m;
    k_scale_min(j, scales, &sc, &m);
    const float dj = d * float(sc), mj = dmin * float(m);
    const int c = j / 2, k = j % 2;
    for (int l = 0; l < 32; ++l) {
      const int q = ((qs[32 * c + l] >> (4 * k)) & 0x0F) | (((qh[l] >> j) & 1) << 4);
      y[32 * j + l] = dj * float(q) - mj;
    }
  }
}

// IQ4_NL: fp16 d, 16 bytes of nibbles (as Q4_0) indexing the 16 code points.
void dequant_block_iq4_nl(const uint8_t* x, float* y) {
  const float d = f16_to_f32(load_u16(x));
  const uint8_t* qs = x + 2;
  for (int j = 0; j < QK / 2; ++j) {
    y[j] = d * float(kIq4Values[qs[j] & 0x0F]);
    y[j + QK / 2] = d * float(kIq4Values[qs[j] >> 4]);
  }
}

// IQ4_XS: fp16 d, u16 scales_h, 4 bytes scales_l, 128 bytes of nibbles.
// Sub-block ib (32 elements): 6-bit scale = nibble ib%2 of scales_l[ib/2] |
// bits 2ib..2ib+1 of scales_h << 4, stored as scale + 32; its 16 bytes of
// nibbles as IQ4_NL. y = (d*scale)*value.
void dequant_block_iq4_xs(const uint8_t* x, float* y) {
  const float d = f16_to_f32(load_u16(x));
  const uint16_t scales_h = load_u16(x + 2);
  const uint8_t* scales_l = x + 4;
  const uint8_t* qs = x + 4 + QK_K / 64;
  for (int ib = 0; ib < QK_K / 32; ++ib, qs += 16, y += 32) {
    const int ls = ((scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0F) | (((scales_h >> (2 * ib)) & 3) << 4);
    const float dl = d * float(int(int8_t(uint8_t(ls))) - 32);
    for (int j = 0; j < 16; ++j) {
      y[j] = dl * float(kIq4Values[qs[j] & 0x0F]);
      y[j + 16] = dl * float(kIq4Values[qs[j] >> 4]);
    }
  }
}

}  // namespace radlads::ggml
