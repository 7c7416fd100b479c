// ggml tensor types: the type table and the reference (de)quantizers, one
// small block function per type. Layouts and arithmetic follow ggml's
// reference code so that results are bit-identical with llama.cpp/gguf-py.

// ggml's reference code is plain C that rounds every product and sum
// separately (as gguf-py's numpy does). GCC contracts a*b+c into an FMA by
// default, even in ISO C++ mode and across statements, which flips Q4_0 codes
// where x*id + 8.5 lands next to an integer (the golden file has such inputs).
// Dequantization is immune (wherever an add follows, the product of a small
// integer and an fp16 scale is exact in fp32), but contraction is off for the
// whole file so that no formula here depends on the compiler's mood.
#if defined(__clang__)
#pragma clang fp contract(off)
#else
#pragma GCC optimize("fp-contract=off")
#endif

#include "io/ggml_types.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/fp16.h"
#include "io/ggml_blocks.h"

namespace radlads {
namespace {

using namespace ggml;

struct TypeInfo {
  GgmlType type;
  const char* name;  // as ggml_type_name() spells it
  int64_t block_elems;
  size_t block_bytes;
};

// Byte counts follow ggml-common.h's block structs (fp16 scales, no padding).
constexpr TypeInfo kTypes[] = {
    {GgmlType::F32, "f32", 1, 4},
    {GgmlType::F16, "f16", 1, 2},
    {GgmlType::Q4_0, "q4_0", QK, 2 + QK / 2},
    {GgmlType::Q4_1, "q4_1", QK, 2 + 2 + QK / 2},
    {GgmlType::Q5_0, "q5_0", QK, 2 + 4 + QK / 2},
    {GgmlType::Q5_1, "q5_1", QK, 2 + 2 + 4 + QK / 2},
    {GgmlType::Q8_0, "q8_0", QK, 2 + QK},
    {GgmlType::Q8_1, "q8_1", QK, 2 + 2 + QK},  // fp16 d and s (gguf-py still says 4+4)
    {GgmlType::Q2_K, "q2_K", QK_K, QK_K / 16 + QK_K / 4 + 2 + 2},
    {GgmlType::Q3_K, "q3_K", QK_K, QK_K / 8 + QK_K / 4 + 12 + 2},
    {GgmlType::Q4_K, "q4_K", QK_K, 2 + 2 + 12 + QK_K / 2},
    {GgmlType::Q5_K, "q5_K", QK_K, 2 + 2 + 12 + QK_K / 8 + QK_K / 2},
    {GgmlType::Q6_K, "q6_K", QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2},
    {GgmlType::Q8_K, "q8_K", QK_K, 4 + QK_K + QK_K / 16 * 2},
    {GgmlType::I8, "i8", 1, 1},
    {GgmlType::I16, "i16", 1, 2},
    {GgmlType::I32, "i32", 1, 4},
    {GgmlType::I64, "i64", 1, 8},
    {GgmlType::F64, "f64", 1, 8},
    {GgmlType::BF16, "bf16", 1, 2},
    {GgmlType::IQ4_NL, "iq4_nl", QK, 2 + QK / 2},
    {GgmlType::IQ4_XS, "iq4_xs", QK_K, 2 + 2 + QK_K / 64 + QK_K / 2},
};

const TypeInfo* lookup(uint32_t t) {
  for (const TypeInfo& info : kTypes)
    if (uint32_t(info.type) == t) return &info;
  return nullptr;
}

const TypeInfo& info_of(GgmlType t) {
  const TypeInfo* info = lookup(uint32_t(t));
  CHECK(info, "ggml type {} is not in the type table", uint32_t(t));
  return *info;
}

// ---- dequantizers: one block in, block_elems floats out ----

void dequant_block_f32(const uint8_t* x, float* y) { std::memcpy(y, x, 4); }
void dequant_block_f16(const uint8_t* x, float* y) { *y = f16_to_f32(load_u16(x)); }
void dequant_block_bf16(const uint8_t* x, float* y) { *y = bf16_to_f32(load_u16(x)); }

// Q8_0: fp16 d, 32 int8 q; y = q*d.
void dequant_block_q8_0(const uint8_t* x, float* y) {
  const float d = f16_to_f32(load_u16(x));
  const int8_t* q = reinterpret_cast<const int8_t*>(x + 2);
  for (int j = 0; j < QK; ++j) y[j] = float(q[j]) * d;
}

// Q4_0: fp16 d, 16 bytes of nibbles; low nibbles are elements 0..15, high
// nibbles 16..31; y = (q-8)*d.
void dequant_block_q4_0(const uint8_t* x, float* y) {
  const float d = f16_to_f32(load_u16(x));
  const uint8_t* qs = x + 2;
  for (int j = 0; j < QK / 2; ++j) {
    y[j] = float((qs[j] & 0x0F) - 8) * d;
    y[j + QK / 2] = float((qs[j] >> 4) - 8) * d;
  }
}

// Q4_1: fp16 d, fp16 m (the block minimum), nibbles as Q4_0; y = q*d + m.
void dequant_block_q4_1(const uint8_t* x, float* y) {
  const float d = f16_to_f32(load_u16(x));
  const float m = f16_to_f32(load_u16(x + 2));
  const uint8_t* qs = x + 4;
  for (int j = 0; j < QK / 2; ++j) {
    y[j] = float(qs[j] & 0x0F) * d + m;
    y[j + QK / 2] = float(qs[j] >> 4) * d + m;
  }
}

// Q4_K: fp16 d, fp16 dmin, 12 scale bytes, 128 bytes of nibbles. Eight
// sub-blocks of 32; each 32-byte chunk of qs holds sub-block 2c in its low
// nibbles and 2c+1 in its high nibbles. y = (d*scale)*q - (dmin*min).
void dequant_block_q4_k(const uint8_t* x, float* y) {
  const float d = f16_to_f32(load_u16(x));
  const float dmin = f16_to_f32(load_u16(x + 2));
  const uint8_t* scales = x + 4;
  const uint8_t* qs = x + 16;
  for (int c = 0; c < 4; ++c, qs += 32, y += 64) {
    int sc, m;
    k_scale_min(2 * c, scales, &sc, &m);
    const float d_lo = d * float(sc), m_lo = dmin * float(m);
    k_scale_min(2 * c + 1, scales, &sc, &m);
    const float d_hi = d * float(sc), m_hi = dmin * float(m);
    for (int l = 0; l < 32; ++l) y[l] = d_lo * float(qs[l] & 0x0F) - m_lo;
    for (int l = 0; l < 32; ++l) y[l + 32] = d_hi * float(qs[l] >> 4) - m_hi;
  }
}

// Q6_K: 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits), 16 int8 scales,
// fp16 d. Two halves of 128 elements; in half h, the four 32-element groups g
// take their low bits from ql[64h + 32(g&1) + l] (low nibble for g<2, high
// nibble otherwise) and their high bits from bits 2g..2g+1 of qh[32h + l].
// Element e uses scale e/16. y = (d*scale)*(q-32).
void dequant_block_q6_k(const uint8_t* x, float* y) {
  const uint8_t* ql = x;
  const uint8_t* qh = x + QK_K / 2;
  const int8_t* sc = reinterpret_cast<const int8_t*>(x + QK_K / 2 + QK_K / 4);
  const float d = f16_to_f32(load_u16(x + QK_K / 2 + QK_K / 4 + QK_K / 16));
  for (int h = 0; h < 2; ++h, ql += 64, qh += 32, sc += 8, y += 128) {
    for (int l = 0; l < 32; ++l) {
      const int q0 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q1 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      const int s = l / 16;
      y[l] = d * float(sc[s]) * float(q0);
      y[l + 32] = d * float(sc[s + 2]) * float(q1);
      y[l + 64] = d * float(sc[s + 4]) * float(q2);
      y[l + 96] = d * float(sc[s + 6]) * float(q3);
    }
  }
}

// ---- quantizers: block_elems floats in, one block out (quantize_row_*_ref) ----

void quant_block_f32(const float* x, uint8_t* y) { std::memcpy(y, x, 4); }
void quant_block_f16(const float* x, uint8_t* y) { store_u16(y, f32_to_f16(*x)); }
void quant_block_bf16(const float* x, uint8_t* y) { store_u16(y, f32_to_bf16(*x)); }

// Q8_0: d = absmax/127 (stored fp16, but the unrounded d sets the codes),
// q = roundf(x/d) with halves away from zero.
void quant_block_q8_0(const float* x, uint8_t* y) {
  float amax = 0.0f;
  for (int j = 0; j < QK; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_u16(y, f32_to_f16(d));
  int8_t* q = reinterpret_cast<int8_t*>(y + 2);
  for (int j = 0; j < QK; ++j) q[j] = int8_t(std::roundf(x[j] * id));
}

// Q4_0: d = -(the signed value of largest magnitude)/8, so that value maps to
// code 0 exactly; codes are trunc(x/d + 8.5) capped at 15.
void quant_block_q4_0(const float* x, uint8_t* y) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < QK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  const float d = max / -8;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_u16(y, f32_to_f16(d));
  uint8_t* qs = y + 2;
  for (int j = 0; j < QK / 2; ++j) {
    const int q0 = std::min(15, int(int8_t(x[j] * id + 8.5f)));
    const int q1 = std::min(15, int(int8_t(x[j + QK / 2] * id + 8.5f)));
    qs[j] = uint8_t(q0 | (q1 << 4));
  }
}

// Q4_1: d = (max-min)/15, m = min; codes are trunc((x-min)/d + 0.5) capped at 15.
void quant_block_q4_1(const float* x, uint8_t* y) {
  float min = FLT_MAX, max = -FLT_MAX;
  for (int j = 0; j < QK; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
  const float d = (max - min) / 15;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_u16(y, f32_to_f16(d));
  store_u16(y + 2, f32_to_f16(min));
  uint8_t* qs = y + 4;
  for (int j = 0; j < QK / 2; ++j) {
    const int q0 = std::min(15, int(int8_t((x[j] - min) * id + 0.5f)));
    const int q1 = std::min(15, int(int8_t((x[j + QK / 2] - min) * id + 0.5f)));
    qs[j] = uint8_t(q0 | (q1 << 4));
  }
}

using DequantBlock = void (*)(const uint8_t*, float*);
using QuantBlock = void (*)(const float*, uint8_t*);

DequantBlock dequantizer(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return dequant_block_f32;
    case GgmlType::F16: return dequant_block_f16;
    case GgmlType::BF16: return dequant_block_bf16;
    case GgmlType::Q8_0: return dequant_block_q8_0;
    case GgmlType::Q4_0: return dequant_block_q4_0;
    case GgmlType::Q4_1: return dequant_block_q4_1;
    case GgmlType::Q4_K: return dequant_block_q4_k;
    case GgmlType::Q6_K: return dequant_block_q6_k;
    case GgmlType::Q5_0: return dequant_block_q5_0;
    case GgmlType::Q5_1: return dequant_block_q5_1;
    case GgmlType::Q2_K: return dequant_block_q2_k;
    case GgmlType::Q3_K: return dequant_block_q3_k;
    case GgmlType::Q5_K: return dequant_block_q5_k;
    case GgmlType::IQ4_NL: return dequant_block_iq4_nl;
    case GgmlType::IQ4_XS: return dequant_block_iq4_xs;
    default: return nullptr;
  }
}

QuantBlock quantizer(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return quant_block_f32;
    case GgmlType::F16: return quant_block_f16;
    case GgmlType::BF16: return quant_block_bf16;
    case GgmlType::Q8_0: return quant_block_q8_0;
    case GgmlType::Q4_0: return quant_block_q4_0;
    case GgmlType::Q4_1: return quant_block_q4_1;
    default: return nullptr;
  }
}

}  // namespace

bool ggml_type_valid(uint32_t t) { return lookup(t) != nullptr; }

const char* ggml_type_name(GgmlType t) { return info_of(t).name; }

GgmlType ggml_type_from_name(const std::string& name) {
  for (const TypeInfo& info : kTypes)
    if (name == info.name) return info.type;
  fail("unknown ggml type name '{}'", name);
}

int64_t ggml_block_elems(GgmlType t) { return info_of(t).block_elems; }
size_t ggml_block_bytes(GgmlType t) { return info_of(t).block_bytes; }

size_t ggml_row_bytes(GgmlType t, int64_t n) {
  const TypeInfo& info = info_of(t);
  if (n < 0 || n % info.block_elems != 0)
    fail("a row of {} elements is not a whole number of {} blocks ({} elements each)", n,
         info.name, info.block_elems);
  return size_t(n / info.block_elems) * info.block_bytes;
}

bool ggml_can_dequantize(GgmlType t) { return dequantizer(t) != nullptr; }
bool ggml_can_quantize(GgmlType t) { return quantizer(t) != nullptr; }

void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n) {
  const DequantBlock f = dequantizer(t);
  CHECK(f, "cannot dequantize ggml type {}", ggml_type_name(t));
  const TypeInfo& info = info_of(t);
  CHECK(n >= 0 && n % info.block_elems == 0, "row of {} is not a multiple of the {} block {}", n,
        info.name, info.block_elems);
  const uint8_t* x = static_cast<const uint8_t*>(src);
  for (int64_t b = 0; b < n / info.block_elems; ++b)
    f(x + size_t(b) * info.block_bytes, dst + b * info.block_elems);
}

std::vector<uint8_t> quantize_row(GgmlType t, const float* src, int64_t n) {
  const QuantBlock f = quantizer(t);
  CHECK(f, "cannot quantize to ggml type {}", ggml_type_name(t));
  const TypeInfo& info = info_of(t);
  CHECK(n >= 0 && n % info.block_elems == 0, "row of {} is not a multiple of the {} block {}", n,
        info.name, info.block_elems);
  std::vector<uint8_t> out(size_t(n / info.block_elems) * info.block_bytes);
  for (int64_t b = 0; b < n / info.block_elems; ++b)
    f(src + b * info.block_elems, out.data() + size_t(b) * info.block_bytes);
  return out;
}

uint32_t llama_file_type(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return 0;   // LLAMA_FTYPE_ALL_F32
    case GgmlType::F16: return 1;   // LLAMA_FTYPE_MOSTLY_F16
    case GgmlType::Q4_0: return 2;  // LLAMA_FTYPE_MOSTLY_Q4_0
    case GgmlType::Q8_0: return 7;  // LLAMA_FTYPE_MOSTLY_Q8_0
    case GgmlType::BF16: return 32; // LLAMA_FTYPE_MOSTLY_BF16
    default: fail("export dtype {} is not supported (f32, f16, bf16, q8_0, q4_0)", ggml_type_name(t));
  }
}

}  // namespace radlads
