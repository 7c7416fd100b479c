// The block helpers ggml_types.cpp and ggml_dequant_more.cpp share: ggml's
// block sizes, little-endian fp16 loads, the packed 6-bit scales of the
// K-quants, and the dequantizers of the second file. Internal to src/io/.
#pragma once

#include <cstdint>
#include <cstring>

namespace radlads::ggml {

constexpr int64_t QK = 32;     // elements per block of the 32-element types
constexpr int64_t QK_K = 256;  // elements per K-quant super-block

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

inline void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

// Q4_K's and Q5_K's 12 scale bytes pack eight 6-bit scales and eight 6-bit
// mins. Sub-blocks 0..3 keep theirs in the low 6 bits of bytes 0..3 (scale)
// and 4..7 (min); sub-blocks 4..7 take their low 4 bits from bytes 8..11 and
// their top 2 bits from the spare top bits of bytes 0..3 (scale) and 4..7 (min).
inline void k_scale_min(int j, const uint8_t* s, int* scale, int* min) {
  if (j < 4) {
    *scale = s[j] & 63;
    *min = s[j + 4] & 63;
  } else {
    *scale = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
    *min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// ggml_dequant_more.cpp: one block in, its elements out.
void dequant_block_q5_0(const uint8_t* x, float* y);
void dequant_block_q5_1(const uint8_t* x, float* y);
void dequant_block_q2_k(const uint8_t* x, float* y);
void dequant_block_q3_k(const uint8_t* x, float* y);
void dequant_block_q5_k(const uint8_t* x, float* y);
void dequant_block_iq4_nl(const uint8_t* x, float* y);
void dequant_block_iq4_xs(const uint8_t* x, float* y);

}  // namespace radlads::ggml
