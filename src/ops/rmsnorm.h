// RMSNorm: out = x / sqrt(mean(x^2) + eps) * weight, per row of C.
#pragma once

#include <cstdint>

namespace radlads {

// out (M,C), rstd (M) or nullptr (cache for backward), inp (M,C), weight (C).
void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int64_t M,
                     int64_t C, float eps);

}  // namespace radlads
