// What every student token mixer (RAD-RWKV6, RAD-RWKV7) shares: its dims, the
// in/out bundle of one forward over B sequences of T tokens, and the gradient
// bundle of its backward. Weights and gradients are views into the model's
// (and the gradient set's) tensors under the same HF names.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/tensor.h"
#include "models/model.h"
#include "ops/rope.h"

namespace radlads {

struct MixDims {
  int B = 0, T = 0;
  int64_t M = 0;            // B*T rows
  int C = 0, H = 0, KVH = 0, N = 0;
  int64_t A = 0, KD = 0;    // H*N (attention width), KVH*N
  MixDims(const TeacherConfig& c, int B, int T)
      : B(B), T(T), M(int64_t(B) * T), C(c.n_embd), H(c.n_head), KVH(c.n_head_kv), N(c.head_dim),
        A(int64_t(c.n_head) * c.head_dim), KD(int64_t(c.n_head_kv) * c.head_dim) {}
};

struct TimeMixIO {
  const float* xn = nullptr;     // (M,C) the normed layer input
  float* y = nullptr;            // (M,C) the output, after o_proj
  const int32_t* pos = nullptr;  // (M) absolute positions, for RoPE
  float* shift = nullptr;        // (B,C) previous token's xn (token shift); updated; nullable = zeros
  float* state = nullptr;        // (B,H,N,N) recurrent state; updated; nullable = zeros
  float* v_first = nullptr;      // (M,A) RWKV7 value residual: layer 0 writes, later layers read
};

// Gradient of a parameter by HF name, or nullptr when it is frozen / absent.
using GradMap = std::map<std::string, Tensor>;
inline float* grad_ptr(GradMap* g, const std::string& name) {
  if (!g) return nullptr;
  auto it = g->find(name);
  return it == g->end() ? nullptr : it->second.ptr();
}

// Column sums of d (M, n) accumulated into out (n): the gradient of a
// per-channel parameter broadcast over rows.
void add_colsum(float* out, const float* d, int64_t M, int64_t n);

}  // namespace radlads
