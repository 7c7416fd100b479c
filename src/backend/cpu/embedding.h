// Token embedding lookup: out[m] = table[tokens[m]], and its backward.
#pragma once

#include <cstdint>

namespace radlads {

// out (M,C); table (V,C); tokens (M), each in [0, V) (the caller checks V).
void embedding_forward(float* out, const float* table, const int32_t* tokens, int64_t M,
                       int64_t C);

// d_table (V,C) accumulated (+=) with the rows of d_out (M,C) at their tokens.
// A token repeated in the window receives the sum of its rows.
void embedding_backward(float* d_table, const float* d_out, const int32_t* tokens, int64_t M,
                        int64_t C);

// Scalar-generic bodies (float and double instantiated; double for FD tests).
template <typename F>
void embedding_forward_t(F* out, const F* table, const int32_t* tokens, int64_t M, int64_t C);
template <typename F>
void embedding_backward_t(F* d_table, const F* d_out, const int32_t* tokens, int64_t M, int64_t C);

}  // namespace radlads
