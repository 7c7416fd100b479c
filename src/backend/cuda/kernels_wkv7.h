// WKV7 forward and backward on the GPU (simt.h), the recurrence of
// backend/cpu/wkv7.h: per (batch, head) a value-major state S (N_v × N_k),
// per value row j:  s_j ← s_j ⊙ w + (s_j·a) b + v[j] k,   o[j] = scale·s_j·r.
// One block of N threads per (batch, head); thread j owns row s_j in
// registers (rows evolve independently), one token after another.
//
// Backward: thread j walks its row back in time with ds = ∂L/∂s_j:
//   ds += scale·do[j]·r;  d_v[j] = ds·k;  dsa = ds·b;  ds ← ds⊙w + dsa·a,
// which needs s_{t−1}: the forward stores the state every kChunk7 tokens
// (ckpt) and each chunk's states are recomputed into `stash` before it is
// walked back. The key-indexed gradients sum over the rows j:
//   d_w = Σ_j s_{t−1}⊙ds,  d_k = Σ_j v[j]·ds,  d_b = Σ_j (s_{t−1}·a)·ds,
//   d_a = Σ_j dsa_j·s_{t−1},  d_r = scale·(w⊙Σ_j do[j] s_{t−1} + b·Σ_j do[j] sa_j
//   + k·Σ_j do[j] v[j])  (s_t expanded),
// so each token the rows s_{t−1} and ds go to shared memory and thread i
// reduces column i.
#pragma once

#include <cstdint>

#include "backend/cuda/simt.h"

namespace radlads::gpu {

inline constexpr int kChunk7 = 16;  // tokens between stored states in the backward

// grid B·H, block N, smem 5N floats.
template <int N>
struct Wkv7Forward {
  static constexpr bool kSync = true;
  template <class K>
  RADLADS_HD void operator()(const K& k, float* out, float* state, const float* r, const float* w, const float* kk,
                             const float* v, const float* a, const float* bb, int T, int H, float scale) const {
    const int bh = k.bid(), b = bh / H, h = bh % H, j = k.tid();
    float* sr = k.template shared<float>();
    float* sw = sr + N;
    float* sk = sw + N;
    float* sa = sk + N;
    float* sb = sa + N;
    float* st = state ? state + int64_t(bh) * N * N : nullptr;
    float s[N];
    for (int i = 0; i < N; i++) s[i] = st ? st[j * N + i] : 0.0f;
    for (int t = 0; t < T; t++) {
      const int64_t o = (int64_t(b) * T + t) * H * N + int64_t(h) * N;
      sr[j] = r[o + j];
      sw[j] = w[o + j];
      sk[j] = kk[o + j];
      sa[j] = a[o + j];
      sb[j] = bb[o + j];
      k.sync();
      const float vj = v[o + j];
      float dot = 0;
      for (int i = 0; i < N; i++) dot += s[i] * sa[i];
      float acc = 0;
      for (int i = 0; i < N; i++) {
        s[i] = s[i] * sw[i] + dot * sb[i] + vj * sk[i];
        acc += s[i] * sr[i];
      }
      out[o + j] = scale * acc;
      k.sync();
    }
    if (st)
      for (int i = 0; i < N; i++) st[j * N + i] = s[i];
  }
};

// Scratch per (batch, head): ckpt ceil(T/kChunk7)·N·N floats, stash
// kChunk7·N·N floats, both laid out [..][i][j] (thread j's column).
template <int N>
inline int64_t wkv7_backward_scratch_floats(int T) {
  return (int64_t((T + kChunk7 - 1) / kChunk7) + kChunk7) * N * N;
}

// grid B·H, block N, smem (2N(N+1) + 4N) floats; scratch B·H·
// wkv7_backward_scratch_floats<N>(T) floats. d_state0, d_state_final, state0 nullable.
template <int N>
struct Wkv7Backward {
  static constexpr bool kSync = true;
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_r, float* d_w, float* d_k, float* d_v, float* d_a, float* d_b,
                             float* d_state0, float* scratch, const float* d_out, const float* d_state_final,
                             const float* r, const float* w, const float* kk, const float* v, const float* a,
                             const float* bb, const float* state0, int T, int H, float scale) const {
    const int bh = k.bid(), b = bh / H, h = bh % H, x = k.tid();
    const int64_t NN = int64_t(N) * N;
    const int nc = (T + kChunk7 - 1) / kChunk7;
    float* ckpt = scratch + int64_t(bh) * (nc + kChunk7) * NN;
    float* stash = ckpt + int64_t(nc) * NN;
    float* t1 = k.template shared<float>();  // s_{t−1} rows, [j][i] with stride N + 1
    float* t2 = t1 + N * (N + 1);            // ds rows
    float* v_sa = t2 + N * (N + 1);          // per row j: sa_j, dsa_j, v[j], do[j]
    float* v_dsa = v_sa + N;
    float* v_v = v_dsa + N;
    float* v_do = v_v + N;
    auto off = [&](int t) { return (int64_t(b) * T + t) * H * N + int64_t(h) * N; };
    // One step of row x (vectors read straight from global: every thread
    // reads the same address, a broadcast).
    auto step = [&](float* s, int t) {
      const int64_t o = off(t);
      float dot = 0;
      for (int i = 0; i < N; i++) dot += s[i] * a[o + i];
      const float vx = v[o + x];
      for (int i = 0; i < N; i++) s[i] = s[i] * w[o + i] + dot * bb[o + i] + vx * kk[o + i];
    };

    float s[N];
    for (int i = 0; i < N; i++) s[i] = state0 ? state0[bh * NN + x * N + i] : 0.0f;
    for (int c = 0; c < nc; c++) {
      for (int i = 0; i < N; i++) ckpt[c * NN + i * N + x] = s[i];
      const int t_end = (c + 1) * kChunk7 < T ? (c + 1) * kChunk7 : T;
      if (c + 1 < nc)
        for (int t = c * kChunk7; t < t_end; t++) step(s, t);
    }

    float ds[N];
    for (int i = 0; i < N; i++) ds[i] = d_state_final ? d_state_final[bh * NN + x * N + i] : 0.0f;
    for (int c = nc - 1; c >= 0; c--) {
      const int t0 = c * kChunk7, t_end = t0 + kChunk7 < T ? t0 + kChunk7 : T;
      for (int i = 0; i < N; i++) s[i] = ckpt[c * NN + i * N + x];
      for (int t = t0; t < t_end; t++) {
        for (int i = 0; i < N; i++) stash[(t - t0) * NN + i * N + x] = s[i];
        step(s, t);
      }
      for (int t = t_end - 1; t >= t0; t--) {
        const int64_t o = off(t);
        const float* sp = stash + (t - t0) * NN;  // s_{t−1}, column x
        const float dox = d_out[o + x], vx = v[o + x];
        float sa = 0, dv = 0, dsa = 0;
        for (int i = 0; i < N; i++) {
          const float si = sp[i * N + x];
          sa += si * a[o + i];
          ds[i] += scale * dox * r[o + i];
          dv += ds[i] * kk[o + i];
          dsa += ds[i] * bb[o + i];
          t1[x * (N + 1) + i] = si;
          t2[x * (N + 1) + i] = ds[i];
        }
        d_v[o + x] = dv;
        v_sa[x] = sa, v_dsa[x] = dsa, v_v[x] = vx, v_do[x] = dox;
        k.sync();
        // Thread x now reduces key column i = x over the rows j.
        float gw = 0, gk = 0, gb = 0, ga = 0, gr = 0, dsa_do = 0, v_do_sum = 0;
        for (int j = 0; j < N; j++) {
          const float sj = t1[j * (N + 1) + x], dj = t2[j * (N + 1) + x];
          gw += sj * dj;
          gk += v_v[j] * dj;
          gb += v_sa[j] * dj;
          ga += sj * v_dsa[j];
          gr += v_do[j] * sj;
          dsa_do += v_do[j] * v_sa[j];
          v_do_sum += v_do[j] * v_v[j];
        }
        d_w[o + x] = gw;
        d_k[o + x] = gk;
        d_b[o + x] = gb;
        d_a[o + x] = ga;
        d_r[o + x] = scale * (w[o + x] * gr + bb[o + x] * dsa_do + kk[o + x] * v_do_sum);
        k.sync();
        for (int i = 0; i < N; i++) ds[i] = ds[i] * w[o + i] + dsa * a[o + i];
      }
    }
    if (d_state0)
      for (int i = 0; i < N; i++) d_state0[bh * NN + x * N + i] = ds[i];
  }
};

}  // namespace radlads::gpu
