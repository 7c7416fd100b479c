// Linear layers of a FROZEN model in bfloat16: the weight is rounded to bf16
// once, each input is rounded per call, and oneDNN multiplies them with fp32
// accumulation (AMX or AVX512-BF16 kernels; measured on an AMX Xeon at
// 1.5-3.3 TFLOP/s against 0.3 for fp32 on the teacher's shapes). Only the
// teacher's forward in steps 1 and 2 uses it (TeacherGemm::BF16): the
// student's weights, activations and gradients stay fp32.
//
// The CPU backend's frozen_weights(BF16) (backend/cpu/frozen_weights.h)
// runs the prompt-sized products of the weights it holds through
// matmul_forward_bf16, everything else in fp32. The teacher computes through
// that backend, so a student time mix called from the alignment hook (on the
// plain backend) stays fp32.
#pragma once

#include <cstddef>
#include <cstdint>

namespace radlads {

// Is a bf16 GEMM faster than fp32 here: the CPU has AVX512-BF16 or AMX-BF16
// and our kernels are not forced to AVX2.
bool bf16_gemm_available();

// out (M,OC) = bf16(inp (M,C)) · w^T (+ bias), fp32 accumulation and output.
// w (OC,C) in bf16, HF [out,in] layout.
void matmul_forward_bf16(float* out, const float* inp, const uint16_t* w, const float* bias, int64_t M, int64_t C,
                         int64_t OC);

}  // namespace radlads
