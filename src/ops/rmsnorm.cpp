// RMSNorm forward. The sum of squares is accumulated in double, as ggml does,
// so long rows do not lose precision.
#include "ops/rmsnorm.h"

#include <cmath>

namespace radlads {

void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int64_t M,
                     int64_t C, float eps) {
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; m++) {
    const float* x = inp + m * C;
    double ss = 0;
    for (int64_t c = 0; c < C; c++) ss += double(x[c]) * x[c];
    const float r = float(1.0 / std::sqrt(ss / double(C) + eps));
    if (rstd) rstd[m] = r;
    float* o = out + m * C;
    for (int64_t c = 0; c < C; c++) o[c] = x[c] * r * weight[c];
  }
}

}  // namespace radlads
