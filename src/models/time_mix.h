// What every student token mixer (RAD-RWKV6, RAD-RWKV7) shares: its dims, the
// in/out bundle of one forward over B sequences of T tokens, and the gradient
// bundle of its backward. Weights and gradients are views into the model's
// (and the gradient set's) tensors under the same HF names.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/arena.h"
#include "core/tensor.h"
#include "models/model.h"
#include "backend/backend.h"
#include "backend/rope_table.h"

namespace radlads {

struct KVCache;  // models/attention_block.h

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
  KVCache* const* kv = nullptr;  // (B) softmax attention's caches; nullable = fresh causal windows
};

// Gradients live in an Arena (core/arena.h) under the parameters' HF names;
// a name the arena lacks is frozen.
inline float* grad_ptr(const Arena* g, std::string_view name) { return g ? g->find(name) : nullptr; }
// prefix + leaf, looked up without allocating (the key is built in a
// per-thread buffer that keeps its capacity): a training step calls this for
// every parameter.
inline float* grad_ptr(const Arena* g, const std::string& prefix, const char* leaf) {
  if (!g) return nullptr;
  thread_local std::string key;
  key.assign(prefix);
  key += leaf;
  return g->find(key);
}

// A zeroed gradient arena for the tensors of m for which trainable(name)
// holds, in the model's (sorted) name order, in be's memory.
Arena make_grad_arena(const Model& m, const std::function<bool(const std::string&)>& trainable,
                      const Backend& be = cpu_backend());

}  // namespace radlads
