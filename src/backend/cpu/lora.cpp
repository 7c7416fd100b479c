// x @ W products via gemm (backend/cpu/blas.h).
#include "backend/cpu/lora.h"

#include "backend/cpu/blas.h"

namespace radlads {

void lora_matmul_forward(float* out, const float* inp, const float* weight, int64_t M, int64_t C,
                         int64_t OC, bool accumulate) {
  gemm<float>(false, false, int(M), int(OC), int(C), 1.0f, inp, int(C), weight, int(OC),
              accumulate ? 1.0f : 0.0f, out, int(OC));
}

void lora_matmul_backward(float* d_inp, float* d_weight, const float* d_out, const float* inp,
                          const float* weight, int64_t M, int64_t C, int64_t OC, bool accumulate_inp) {
  if (d_inp)  // d_inp = d_out @ W^T
    gemm<float>(false, true, int(M), int(C), int(OC), 1.0f, d_out, int(OC), weight, int(OC),
                accumulate_inp ? 1.0f : 0.0f, d_inp, int(C));
  if (d_weight)  // d_W += inp^T @ d_out
    gemm<float>(true, false, int(C), int(OC), int(M), 1.0f, inp, int(C), d_out, int(OC), 1.0f, d_weight,
                int(OC));
}

}  // namespace radlads
