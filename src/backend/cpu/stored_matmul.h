// Linear layers on weights held as a file stores them (Backend::FrozenWeights::
// add_stored): rows of any ggml type io/ggml_types.h dequantizes, K-quants
// included, with fp32 inputs and accumulation. The inputs are never
// quantized, so the products are those of the dequantized weight within
// fp32 summation order: a frozen teacher held this way gives the fp32 path's
// logits within rounding.
//
// Up to kPackedStreamRowsMax input rows (decoding) stream the weight once:
// for the types with a vector decoder (stored_type_streamed), each 32-element
// sub-block is decoded into registers, bit-equal to io's reference
// dequantizer, and dotted with up to kPackedRowsMax input rows. More rows (a
// prompt), or a type without a decoder, decode about 4 MB of rows at a time
// into fp32 and multiply them with sgemm.
#pragma once

#include <cstdint>

#include "io/ggml_types.h"

namespace radlads {

// Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K (what llama.cpp's presets put in
// Q4_0 … Q8_0 and Q4_K_M / Q5_K_M / Q6_K files besides the float types).
bool stored_type_streamed(GgmlType t);

// Q8_0 Q4_0 Q5_0 Q4_K Q6_K: the types with integer kernels against inputs quantized
// to Q8_0 blocks (quantize_inputs below).
bool stored_type_integer(GgmlType t);

// out (M,OC) = inp (M,C) · Wᵀ (+ bias); W is OC rows of ggml_row_bytes(t, C).
// With quantize_inputs, up to kPackedStreamRowsMax rows meet a weight of a
// stored_type_integer type as llama.cpp's CPU kernels do: the inputs rounded
// to Q8_0 blocks (packed_matmul.h's quantize_inputs_q8_0) and the blocks
// multiplied as integers — faster, but no longer the fp32 path within
// rounding (inference opts in; a teacher being distilled does not).
void stored_matmul_forward(float* out, const float* inp, const uint8_t* w, GgmlType t, const float* bias, int64_t M,
                           int64_t C, int64_t OC, bool quantize_inputs = false);

// One row of C elements of type t as fp32 (the vector decoder where t has one).
void stored_decode_row(float* out, const uint8_t* row, GgmlType t, int64_t C);

// Rows [r0, r1) of W as fp32 (out (r1-r0, C)), in parallel.
void stored_decode_rows(float* out, const uint8_t* w, GgmlType t, int64_t C, int64_t r0, int64_t r1);

}  // namespace radlads
