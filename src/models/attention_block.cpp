// Softmax attention block (DESIGN.md, Teacher): projections, RoPE, KV append,
// attention, o_proj; and the training forward/backward for hybrid students.
#include "models/attention_block.h"

#include <cstring>
#include <vector>

#include "core/error.h"
#include "models/decoder_parts.h"

namespace radlads {

KVCache::KVCache(const TeacherConfig& c, int n_ctx, int n_layers, const Backend& be)
    : n_ctx(n_ctx),
      n_layers(n_layers),
      k(be, size_t(n_layers) * n_ctx * c.n_head_kv * c.head_dim),
      v(be, size_t(n_layers) * n_ctx * c.n_head_kv * c.head_dim) {}

void KVCache::save(std::string& out) const {
  const int64_t width = n_layers && n_ctx ? int64_t(k.size()) / (int64_t(n_layers) * n_ctx) : 0;
  const int64_t head[3] = {n_layers, width, n_past};
  out.append(reinterpret_cast<const char*>(head), sizeof head);
  const size_t rows = size_t(n_past * width) * sizeof(float);
  for (const DeviceArray<float>* kv : {&k, &v})
    for (int l = 0; l < n_layers; l++) {
      const size_t at = out.size();
      out.resize(at + rows);
      kv->backend().to_host(out.data() + at, kv->data() + int64_t(l) * n_ctx * width, rows);
    }
}

void KVCache::load(ByteReader& r) {
  const int64_t width = n_layers && n_ctx ? int64_t(k.size()) / (int64_t(n_layers) * n_ctx) : 0;
  const int64_t layers = r.read<int64_t>("KV cache layers"), w = r.read<int64_t>("KV cache width"),
                past = r.read<int64_t>("KV cache positions");
  if (layers != n_layers || w != width)
    fail("{}: KV cache of {} layers × {} floats, this model's is {} × {}", r.path(), layers, w, n_layers, width);
  if (past < 0 || past > n_ctx) fail("{}: {} cached positions do not fit a context of {}", r.path(), past, n_ctx);
  for (DeviceArray<float>* kv : {&k, &v})
    for (int l = 0; l < n_layers; l++) {
      const std::string_view b = r.read_bytes(uint64_t(past * width) * sizeof(float), "KV cache rows");
      if (!b.empty()) kv->backend().to_device(kv->data() + int64_t(l) * n_ctx * width, b.data(), b.size());
    }
  n_past = int(past);
}

namespace {

// The block's prologue, shared by the decoding and the training forward:
// q, k, v (M rows) = projections of xn, then RoPE on q and k at pos; att is
// sized for the attention output.
void project_qkv(const Backend& be, Workspace& ws, std::span<float>& q, std::span<float>& k, std::span<float>& v,
                 std::span<float>& att, const float* xn, const AttentionWeights& w, const TeacherConfig& c, int64_t M, const int32_t* pos,
                 const RopeTable& rope) {
  const int64_t C = c.n_embd, QD = int64_t(c.n_head) * c.head_dim, KD = int64_t(c.n_head_kv) * c.head_dim;
  q = ws.take(M * QD);
  att = ws.take(M * QD);
  k = ws.take(M * KD);
  v = ws.take(M * KD);
  be.matmul_forward(q.data(), xn, w.q, w.q_b, M, C, QD);
  be.matmul_forward(k.data(), xn, w.k, w.k_b, M, C, KD);
  be.matmul_forward(v.data(), xn, w.v, w.v_b, M, C, KD);
  be.rope_forward(q.data(), pos, M, c.n_head, rope);
  be.rope_forward(k.data(), pos, M, c.n_head_kv, rope);
}

}  // namespace

void attention_block_forward(const Backend& be, Workspace& ws, float* y, const float* xn, const AttentionWeights& w, const TeacherConfig& c,
                             int B, int T, const int32_t* pos, KVCache* caches, int slot,
                             const RopeTable& rope, AttentionScratch& s) {
  const int64_t M = int64_t(B) * T, C = c.n_embd;
  const int H = c.n_head, KVH = c.n_head_kv, N = c.head_dim;
  const int64_t QD = int64_t(H) * N, KD = int64_t(KVH) * N;
  project_qkv(be, ws, s.q, s.k, s.v, s.att, xn, w, c, M, pos, rope);
  for (int b = 0; b < B; b++) {
    KVCache& kv = caches[b];
    const size_t off = size_t(slot) * kv.n_ctx * KD;
    float* kc = kv.k.data() + off;
    float* vc = kv.v.data() + off;
    be.copy(kc + int64_t(kv.n_past) * KD, s.k.data() + int64_t(b) * T * KD, sizeof(float) * T * KD);
    be.copy(vc + int64_t(kv.n_past) * KD, s.v.data() + int64_t(b) * T * KD, sizeof(float) * T * KD);
    be.attention_forward(s.att.data() + int64_t(b) * T * QD, s.q.data() + int64_t(b) * T * QD, kc, vc, T,
                      kv.n_past + T, H, KVH, N, KD);
  }
  be.matmul_forward(y, s.att.data(), w.o, nullptr, M, QD, C);
}

void attention_block_forward_train(const Backend& be, Workspace& ws, float* y, AttentionActs& a, const float* xn, const AttentionWeights& w,
                                   const TeacherConfig& c, int B, int T, const int32_t* pos, const RopeTable& rope) {
  const int64_t M = int64_t(B) * T, C = c.n_embd;
  const int H = c.n_head, KVH = c.n_head_kv, N = c.head_dim;
  const int64_t QD = int64_t(H) * N, KD = int64_t(KVH) * N;
  project_qkv(be, ws, a.q, a.k, a.v, a.att, xn, w, c, M, pos, rope);
  // Each window attends only within itself: Tq = Tk = T, k and v rows packed (stride KD).
  for (int b = 0; b < B; b++) {
    const int64_t qo = int64_t(b) * T * QD, ko = int64_t(b) * T * KD;
    be.attention_forward(a.att.data() + qo, a.q.data() + qo, a.k.data() + ko, a.v.data() + ko, T, T, H, KVH, N, KD);
  }
  be.matmul_forward(y, a.att.data(), w.o, nullptr, M, QD, C);
}

void attention_block_backward(const Backend& be, Workspace& ws, float* d_xn, const AttentionGrads& g, const float* d_y, const AttentionActs& a,
                              const float* xn, const AttentionWeights& w, const TeacherConfig& c, int B, int T,
                              const int32_t* pos, const RopeTable& rope) {
  const int64_t M = int64_t(B) * T, C = c.n_embd;
  const int H = c.n_head, KVH = c.n_head_kv, N = c.head_dim;
  const int64_t QD = int64_t(H) * N, KD = int64_t(KVH) * N;
  CHECK(int64_t(a.att.size()) == M * QD && int64_t(a.k.size()) == M * KD,
        "attention_block_backward: dims differ from the preceding forward_train");
  const Workspace::Mark mark = ws.mark();
  const std::span<float> d_att = ws.take(M * QD), d_q = ws.take(M * QD), d_k = ws.take(M * KD),
                         d_v = ws.take(M * KD), d_tmp = ws.take(M * C);
  // y = o_proj(att)
  be.matmul_backward(d_att.data(), g.o, nullptr, d_y, a.att.data(), w.o, M, QD, C);
  for (int b = 0; b < B; b++) {
    const int64_t qo = int64_t(b) * T * QD, ko = int64_t(b) * T * KD;
    be.attention_backward(d_q.data() + qo, d_k.data() + ko, d_v.data() + ko, d_att.data() + qo,
                       a.q.data() + qo, a.k.data() + ko, a.v.data() + ko, T, H, KVH, N);
  }
  // The rotation's gradient is the inverse rotation, applied in place.
  be.rope_backward(d_q.data(), pos, M, H, rope);
  be.rope_backward(d_k.data(), pos, M, KVH, rope);
  // xn feeds three projections: matmul_backward writes (=) d_inp, so sum through d_tmp.
  be.matmul_backward(d_xn, g.q, g.q_b, d_q.data(), xn, w.q, M, C, QD);
  be.matmul_backward(d_tmp.data(), g.k, g.k_b, d_k.data(), xn, w.k, M, C, KD);
  be.add_inplace(d_xn, d_tmp.data(), M * C);
  be.matmul_backward(d_tmp.data(), g.v, g.v_b, d_v.data(), xn, w.v, M, C, KD);
  be.add_inplace(d_xn, d_tmp.data(), M * C);
  ws.release(mark);
}

}  // namespace radlads
