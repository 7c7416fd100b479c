// Products with matrices stored [in, out] (the reference keeps its LoRA factors
// and token-shift mixers that way: y = x @ W), forward and backward.
#pragma once

#include <cstdint>

namespace radlads {

// out (M,OC) = inp (M,C) @ weight (C,OC); accumulate adds into out instead.
void lora_matmul_forward(float* out, const float* inp, const float* weight, int64_t M, int64_t C,
                         int64_t OC, bool accumulate = false);
// d_inp (M,C) written (or += when accumulate_inp), nullable; d_weight (C,OC) +=, nullable.
void lora_matmul_backward(float* d_inp, float* d_weight, const float* d_out, const float* inp,
                          const float* weight, int64_t M, int64_t C, int64_t OC,
                          bool accumulate_inp = false);

}  // namespace radlads
