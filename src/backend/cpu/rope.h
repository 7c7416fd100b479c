// Rotary position embedding, HF "rotate_half" convention: within each head of
// size N, element i pairs with i + N/2 and rotates by pos * theta^(-2i/N).
#pragma once

#include <cstdint>

#include "backend/rope_table.h"

namespace radlads {

// x (M, nh, N) rotated in place; pos (M) absolute positions (< table.n_pos).
void rope_forward(float* x, const int32_t* pos, int64_t M, int nh, const RopeTable& table);

// d_x (M, nh, N): on entry the gradient of the rotated x, on exit that of the
// unrotated x (in place). A rotation's Jacobian is orthogonal, so this is the
// rotation by -angle.
void rope_backward(float* d_x, const int32_t* pos, int64_t M, int nh, const RopeTable& table);

// Scalar-generic bodies (float and double instantiated; double for FD tests).
// The table stays float: the double path rotates by the same float cos/sin.
template <typename F>
void rope_forward_t(F* x, const int32_t* pos, int64_t M, int nh, const RopeTable& table);
template <typename F>
void rope_backward_t(F* d_x, const int32_t* pos, int64_t M, int nh, const RopeTable& table);

}  // namespace radlads
