// GQA expand / reduce.
#include "backend/cpu/gqa.h"

#include <cstring>

namespace radlads {

void gqa_expand(float* out, const float* inp, int64_t M, int H, int KVH, int N) {
  const int group = H / KVH;
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; m++)
    for (int h = 0; h < H; h++)
      std::memcpy(out + (m * H + h) * N, inp + (m * KVH + h / group) * N, sizeof(float) * size_t(N));
}

void gqa_reduce(float* d_inp, const float* d_out, int64_t M, int H, int KVH, int N) {
  const int group = H / KVH;
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; m++)
    for (int g = 0; g < KVH; g++) {
      float* d = d_inp + (m * KVH + g) * N;
      for (int n = 0; n < N; n++) d[n] = 0;
      for (int j = 0; j < group; j++) {
        const float* s = d_out + (m * H + g * group + j) * N;
        for (int n = 0; n < N; n++) d[n] += s[n];
      }
    }
}

}  // namespace radlads
