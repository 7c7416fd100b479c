// Linear layers on frozen weights held in another format (Backend::
// FrozenWeights): fp32, f16, bf16, or ggml's Q8_0/Q4_0 blocks, with fp32
// inputs and accumulation.
//
// Up to kPackedStreamRowsMax input rows (decoding one token, or a batch of
// sequences stepped together) stream the weight once: each row of W is
// decoded a block of 32 at a time into registers and dotted with up to 8
// input rows (a block of W rows stays in cache for the next 8), so
// the time is the weight's bytes over memory bandwidth. For Q8_0 and Q4_0
// the input rows are first quantized to Q8_0 blocks (ggml's reference
// quantizer, as llama.cpp's CPU kernels do) and the blocks multiplied as
// integers; the float formats keep fp32 inputs. More rows (a prompt) decode
// W a chunk of rows at a time into fp32 and multiply the chunk with sgemm
// (fp32 inputs for every format).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/blas.h"
#include "backend/cpu/scratch.h"
#include "backend/cpu/isa.h"

namespace radlads {

constexpr int kPackedRowsMax = 8;         // input rows one kernel call takes (its registers)
constexpr int kPackedStreamRowsMax = 16;  // rows streamed (in groups of 8) rather than decoded + sgemm:
                                          // the crossover measured on Q8_0/Q4_0 (decode + sgemm wins from 24)

// out (M,OC) = inp (M,C) · Wᵀ (+ bias); W is OC rows of
// weight_format_row_bytes(f, C) bytes.
void packed_matmul_forward(float* out, const float* inp, const uint8_t* w, WeightFormat f, const float* bias,
                           int64_t M, int64_t C, int64_t OC);

// The row-streaming schedule every decoding kernel shares (packed_matmul_
// forward, stored_matmul_forward): blocks of 16 weight rows, a contiguous run
// of blocks per thread; per block, every group of up to kPackedRowsMax input
// rows in turn, so the block is read from memory once and from cache for the
// other groups, and each row sees the operations it would alone.
// dot(m0, rows, o0, o1): input rows [m0, m0+rows) against weight rows [o0, o1).
template <class Dot>
void stream_weight_rows(int64_t M, int64_t OC, Dot&& dot) {
  constexpr int64_t kRows = 16;
  const int64_t nblk = (OC + kRows - 1) / kRows, groups = (M + kPackedRowsMax - 1) / kPackedRowsMax;
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < nblk; j++)
    for (int64_t g = 0; g < groups; g++) {
      const int64_t m0 = g * kPackedRowsMax;
      dot(m0, int(std::min<int64_t>(kPackedRowsMax, M - m0)), j * kRows, std::min(OC, (j + 1) * kRows));
    }
}

// out (M,OC) = inp (M,C) · Wᵀ for a prompt: about 4 MB of W's rows at a time
// decoded to fp32 by decode(dst, r0, r1), then multiplied with sgemm.
template <class Decode>
void decode_chunks_sgemm(float* out, const float* inp, int64_t M, int64_t C, int64_t OC, Decode&& decode) {
  const int64_t R = std::min(OC, std::max<int64_t>(64, (int64_t(1) << 20) / std::max<int64_t>(C, 1)));
  thread_local std::vector<float> buf;
  float* d = grown(buf, size_t(R * C)).data();
  for (int64_t r0 = 0; r0 < OC; r0 += R) {
    const int64_t r1 = std::min(OC, r0 + R);
    decode(d, r0, r1);
    sgemm(false, true, int(M), int(r1 - r0), int(C), 1.0f, inp, int(C), d, int(C), 0.0f, out + r0, int(OC));
  }
}

// out (M,OC) += bias per row, in parallel (nothing for a null bias).
void add_row_bias(float* out, const float* bias, int64_t M, int64_t OC);

// x (n, a multiple of 32) as Q8_0 blocks: codes q (n) and each block's
// scale d (n/32) as its fp16 rounding, the values ggml's quantize_row_q8_0
// stores.
void quantize_inputs_q8_0(int8_t* q, float* d, const float* x, int64_t n);

// rows [r0, r1) of W decoded to fp32 (out (r1-r0, C)).
void packed_decode_rows(float* out, const uint8_t* w, WeightFormat f, int64_t C, int64_t r0, int64_t r1);

// W packed from fp32 (OC,C): the ggml reference quantizers for Q8_0/Q4_0,
// round-to-nearest-even for the halves. out has OC·weight_format_row_bytes.
void pack_weight(uint8_t* out, const float* w, WeightFormat f, int64_t OC, int64_t C);

}  // namespace radlads

#define RADLADS_PACKED_KERNELS                                                                             \
  void packed_rows_dot(float* out, const float* inp, const uint8_t* w, size_t row_bytes,                 \
                       ::radlads::WeightFormat f, int M, int64_t C, int64_t OC, int64_t o0, int64_t o1); \
  void packed_rows_dot_codes(float* out, const int8_t* xq, const float* xd, const uint8_t* w,             \
                             size_t row_bytes, ::radlads::WeightFormat f, int M, int64_t C, int64_t OC,  \
                             int64_t o0, int64_t o1);                                                      \
  void packed_rows_decode(float* out, const uint8_t* w, size_t row_bytes, ::radlads::WeightFormat f,     \
                          int64_t C, int64_t r0, int64_t r1);
RADLADS_ISA_DECLARE(RADLADS_PACKED_KERNELS)
