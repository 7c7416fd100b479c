// ggml tensor types: block sizes, (de)quantization. Layouts follow ggml's
// reference implementation (ggml-quants.c) bit for bit, so files we write are
// read identically by llama.cpp and files it writes are read identically here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace radlads {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ4_NL = 20, IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30,
};

bool ggml_type_valid(uint32_t t);          // a type id ggml defines (any of the above)
const char* ggml_type_name(GgmlType t);     // "q4_K", as ggml names it
GgmlType ggml_type_from_name(const std::string& name);  // throws Error on unknown
int64_t ggml_block_elems(GgmlType t);       // elements per block (1 for plain types)
size_t ggml_block_bytes(GgmlType t);        // bytes per block
// Bytes of a row of n elements; throws Error if n is not a multiple of the block.
size_t ggml_row_bytes(GgmlType t, int64_t n);
// F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL IQ4_XS:
// every type llama.cpp's quantization presets write (Q4_K_M mixes Q5_0,
// Q8_0, Q6_K and Q4_K); not Q8_1/Q8_K (activations) or the other IQ types.
bool ggml_can_dequantize(GgmlType t);
bool ggml_can_quantize(GgmlType t);         // F32 F16 BF16 Q8_0 Q4_0 Q4_1

// n must be a multiple of the block size (CHECKed).
void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n);
// ggml's reference quantizers (quantize_row_*_ref); n a multiple of the block.
std::vector<uint8_t> quantize_row(GgmlType t, const float* src, int64_t n);

// general.file_type value llama.cpp uses for a file whose weights are dtype.
uint32_t llama_file_type(GgmlType dtype);

}  // namespace radlads
