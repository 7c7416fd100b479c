// Linear layers of a FROZEN model in bfloat16: the weight is rounded to bf16
// once, each input is rounded per call, and oneDNN multiplies them with fp32
// accumulation (AMX or AVX512-BF16 kernels; measured on an AMX Xeon at
// 1.5-3.3 TFLOP/s against 0.3 for fp32 on the teacher's shapes). Only the
// teacher's forward in steps 1 and 2 uses it (TeacherGemm::BF16): the
// student's weights, activations and gradients stay fp32.
//
// The CPU backend's frozen_bf16() (backend/cpu/cpu_backend.cpp) holds a
// Bf16WeightSet and runs the weights it holds through matmul_forward_bf16,
// everything else in fp32. The teacher computes through that backend, so a
// student time mix called from the alignment hook (on the plain backend)
// stays fp32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace radlads {

// Is a bf16 GEMM faster than fp32 here: the CPU has AVX512-BF16 or AMX-BF16
// and our kernels are not forced to AVX2.
bool bf16_gemm_available();

struct Bf16Weight {
  std::vector<uint16_t> data;  // (OC, C), HF [out,in], round-to-nearest-even
  int64_t OC = 0, C = 0;
};

class Bf16WeightSet {
 public:
  void add(const float* w, int64_t OC, int64_t C);  // no-op when already held
  const Bf16Weight* find(const float* w) const;

 private:
  std::unordered_map<const float*, Bf16Weight> w_;
};


// out (M,OC) = bf16(inp (M,C)) · w^T (+ bias), fp32 accumulation and output.
void matmul_forward_bf16(float* out, const float* inp, const Bf16Weight& w, const float* bias, int64_t M);

}  // namespace radlads
