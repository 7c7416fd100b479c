// Embedding forward (row copies) and backward. The backward scatters rows into
// the table; repeated tokens would race if split by rows, so threads split the
// C columns instead: each owns a column slice of every table row (race-free,
// and the sum order is independent of threads). Each token's rows of one call
// are summed first, in position order, and added to its table row once, as a
// GEMM's gradient is: the table then gets (g + S₀) + S₁ from two calls in one
// process and 0 + S₀ + S₁ from two ranks' calls summed by the all-reduce, the
// same bits.
#include "backend/cpu/embedding.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "backend/cpu/scratch.h"

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
  // Positions grouped by token, each group in position order (the buffer is
  // the caller thread's and keeps its capacity).
  thread_local std::vector<int64_t> order_buf;
  int64_t* order = grown(order_buf, size_t(M)).data();
  std::iota(order, order + M, int64_t{0});
  std::sort(order, order + M, [&](int64_t a, int64_t b) {  // (token, position): std::sort allocates nothing
    return tokens[a] != tokens[b] ? tokens[a] < tokens[b] : a < b;
  });
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < nblk; b++) {
    const int64_t c0 = b * kCols, n = std::min(kCols, C - c0);
    F acc[kCols];
    for (int64_t g = 0; g < M;) {
      const int32_t tok = tokens[order[g]];
      std::fill_n(acc, n, F(0));
      for (; g < M && tokens[order[g]] == tok; g++) {
        const F* src = d_out + order[g] * C + c0;
        for (int64_t j = 0; j < n; j++) acc[j] += src[j];
      }
      F* dst = d_table + int64_t(tok) * C + c0;
      for (int64_t j = 0; j < n; j++) dst[j] += acc[j];
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
