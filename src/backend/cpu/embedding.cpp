// Embedding forward (row copies) and backward. The backward scatters rows into
// the table; repeated tokens would race if split by rows, so threads split the
// C columns instead: each owns a column slice of every table row and walks all
// M rows in order (race-free, and the sum order is independent of threads).
#include "backend/cpu/embedding.h"

#include <algorithm>

namespace radlads {

template <typename F>
void embedding_forward_t(F* out, const F* table, const int32_t* tokens, int64_t M, int64_t C) {
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; m++) std::copy_n(table + int64_t(tokens[m]) * C, C, out + m * C);
}

template <typename F>
void embedding_backward_t(F* d_table, const F* d_out, const int32_t* tokens, int64_t M,
                          int64_t C) {
  // 64 columns = 256 bytes of float: whole cache lines per slice, and still
  // 9 slices for C = 576 to spread over the cores.
  constexpr int64_t kCols = 64;
  const int64_t nblk = (C + kCols - 1) / kCols;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < nblk; b++) {
    const int64_t c0 = b * kCols, n = std::min(kCols, C - c0);
    for (int64_t m = 0; m < M; m++) {
      F* dst = d_table + int64_t(tokens[m]) * C + c0;
      const F* src = d_out + m * C + c0;
      for (int64_t j = 0; j < n; j++) dst[j] += src[j];
    }
  }
}

template void embedding_forward_t<float>(float*, const float*, const int32_t*, int64_t, int64_t);
template void embedding_forward_t<double>(double*, const double*, const int32_t*, int64_t,
                                          int64_t);
template void embedding_backward_t<float>(float*, const float*, const int32_t*, int64_t, int64_t);
template void embedding_backward_t<double>(double*, const double*, const int32_t*, int64_t,
                                           int64_t);

void embedding_forward(float* out, const float* table, const int32_t* tokens, int64_t M,
                       int64_t C) {
  embedding_forward_t<float>(out, table, tokens, M, C);
}

void embedding_backward(float* d_table, const float* d_out, const int32_t* tokens, int64_t M,
                        int64_t C) {
  embedding_backward_t<float>(d_table, d_out, tokens, M, C);
}

}  // namespace radlads
