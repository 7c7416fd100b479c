// Softmax attention block (DESIGN.md, Teacher): projections, RoPE, KV append, attention, o_proj.
#include "models/attention_block.h"

#include <cstring>

#include "ops/attention.h"
#include "ops/matmul.h"

namespace radlads {

KVCache::KVCache(const TeacherConfig& c, int n_ctx, int n_layers)
    : n_ctx(n_ctx),
      n_layers(n_layers),
      k(size_t(n_layers) * n_ctx * c.n_head_kv * c.head_dim),
      v(size_t(n_layers) * n_ctx * c.n_head_kv * c.head_dim) {}

void attention_block_forward(float* y, const float* xn, const AttentionWeights& w, const TeacherConfig& c,
                             int B, int T, const int32_t* pos, KVCache* caches, int slot,
                             const RopeTable& rope, AttentionScratch& s) {
  const int64_t M = int64_t(B) * T, C = c.n_embd;
  const int H = c.n_head, KVH = c.n_head_kv, N = c.head_dim;
  const int64_t QD = int64_t(H) * N, KD = int64_t(KVH) * N;
  s.q.resize(size_t(M * QD));
  s.att.resize(size_t(M * QD));
  s.k.resize(size_t(M * KD));
  s.v.resize(size_t(M * KD));
  matmul_forward(s.q.data(), xn, w.q, w.q_b, M, C, QD);
  matmul_forward(s.k.data(), xn, w.k, w.k_b, M, C, KD);
  matmul_forward(s.v.data(), xn, w.v, w.v_b, M, C, KD);
  rope_forward(s.q.data(), pos, M, H, rope);
  rope_forward(s.k.data(), pos, M, KVH, rope);
  for (int b = 0; b < B; b++) {
    KVCache& kv = caches[b];
    const size_t off = size_t(slot) * kv.n_ctx * KD;
    float* kc = kv.k.data() + off;
    float* vc = kv.v.data() + off;
    std::memcpy(kc + int64_t(kv.n_past) * KD, s.k.data() + int64_t(b) * T * KD, sizeof(float) * T * KD);
    std::memcpy(vc + int64_t(kv.n_past) * KD, s.v.data() + int64_t(b) * T * KD, sizeof(float) * T * KD);
    attention_forward(s.att.data() + int64_t(b) * T * QD, s.q.data() + int64_t(b) * T * QD, kc, vc, T,
                      kv.n_past + T, H, KVH, N, KD);
  }
  matmul_forward(y, s.att.data(), w.o, nullptr, M, QD, C);
}

}  // namespace radlads
