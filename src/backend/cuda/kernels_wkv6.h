// WKV6 forward and backward on the GPU (simt.h), the recurrence of
// backend/cpu/wkv6.h: per (batch, head) a key-major state S (N_k × N_v),
//   S_t = diag(w_t) S_{t−1} + k_tᵀ v_t,   o_t = (r_t·scale) S_t,   w = exp(logw).
// One block of N threads per (batch, head), the state in registers, one token
// after another (the RWKV "v6" CUDA kernel's layout: parallel over the state,
// sequential over time; a chunked form is future work, see the README).
//
// Forward: thread j owns value column S[:, j]; r, k, w of the token are
// staged in shared memory.
// Backward, without storing any per-token state:
//  1. rows, forward in time: thread i owns S[i, :]; d_r_t[i] = scale·Σ_j
//     do_t[j]·S_t[i, j].
//  2. rows, backward in time: G = dS_t[i, :] (d_state_final, then + scale·
//     r_t[i]·do_t, then × w_t[i]); d_k_t[i] = G·v_t; d_state0 = the last G.
//     d log w_t[i] is the sum over the terms whose decay product contains
//     w_t: those with source s < t and reader τ ≥ t. With A_τ = r_τ·d_r_τ (all
//     terms read at τ, the state0 ones included), K_s = k_s·d_k_s (all terms
//     written at s) and A_fin = Σ_j d_state_final·S_{T−1} (the final state's
//     terms), d log w_t = A_fin + Σ_{τ≥t} (A_τ − K_τ): a reverse running sum,
//     kept in double (fla's GLA dg is the same identity).
//  3. columns, backward in time: thread j owns dS[:, j]; d_v_t[j] = dS_t[:, j]·k_t.
#pragma once

#include <cmath>
#include <cstdint>

#include "backend/cuda/simt.h"

namespace radlads::gpu {

// grid B·H, block N, smem 3N floats.
template <int N>
struct Wkv6Forward {
  static constexpr bool kSync = true;
  template <class K>
  RADLADS_HD void operator()(const K& k, float* out, float* state, const float* r, const float* kk, const float* v,
                             const float* logw, int T, int H, float scale) const {
    const int bh = k.bid(), b = bh / H, h = bh % H, j = k.tid();
    float* sr = k.template shared<float>();
    float* sk = sr + N;
    float* sw = sk + N;
    float* st = state ? state + int64_t(bh) * N * N : nullptr;
    float s[N];
    for (int i = 0; i < N; i++) s[i] = st ? st[i * N + j] : 0.0f;
    for (int t = 0; t < T; t++) {
      const int64_t o = (int64_t(b) * T + t) * H * N + int64_t(h) * N;
      sr[j] = r[o + j] * scale;
      sk[j] = kk[o + j];
      sw[j] = expf(logw[o + j]);
      k.sync();
      const float vj = v[o + j];
      float acc = 0;
      for (int i = 0; i < N; i++) {
        s[i] = s[i] * sw[i] + sk[i] * vj;
        acc += sr[i] * s[i];
      }
      out[o + j] = acc;
      k.sync();
    }
    if (st)
      for (int i = 0; i < N; i++) st[i * N + j] = s[i];
  }
};

// grid B·H, block N, smem 3N floats. d_state0, d_state_final, state0 nullable.
template <int N>
struct Wkv6Backward {
  static constexpr bool kSync = true;
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_r, float* d_k, float* d_v, float* d_logw, float* d_state0,
                             const float* d_out, const float* d_state_final, const float* r, const float* kk,
                             const float* v, const float* logw, const float* state0, int T, int H,
                             float scale) const {
    const int bh = k.bid(), b = bh / H, h = bh % H, x = k.tid();
    const int64_t NN = int64_t(N) * N;
    const float* s0 = state0 ? state0 + bh * NN : nullptr;
    const float* dsf = d_state_final ? d_state_final + bh * NN : nullptr;
    float* sa = k.template shared<float>();
    float* sb = sa + N;
    float* sc = sb + N;
    auto off = [&](int t) { return (int64_t(b) * T + t) * H * N + int64_t(h) * N; };
    float s[N];

    // 1. Row x forward: d_r.
    for (int j = 0; j < N; j++) s[j] = s0 ? s0[x * N + j] : 0.0f;
    for (int t = 0; t < T; t++) {
      const int64_t o = off(t);
      sa[x] = v[o + x];
      sb[x] = d_out[o + x];
      k.sync();
      const float wi = expf(logw[o + x]), ki = kk[o + x];
      float acc = 0;
      for (int j = 0; j < N; j++) {
        s[j] = wi * s[j] + ki * sa[j];
        acc += sb[j] * s[j];
      }
      d_r[o + x] = acc * scale;
      k.sync();
    }
    double cum = 0;  // A_fin
    if (dsf)
      for (int j = 0; j < N; j++) cum += double(dsf[x * N + j]) * s[j];

    // 2. Row x backward: d_k, d_logw, d_state0.
    for (int j = 0; j < N; j++) s[j] = dsf ? dsf[x * N + j] : 0.0f;  // s is G now
    for (int t = T - 1; t >= 0; t--) {
      const int64_t o = off(t);
      sa[x] = v[o + x];
      sb[x] = d_out[o + x];
      k.sync();
      const float ri = r[o + x], ki = kk[o + x], wi = expf(logw[o + x]), rs = scale * ri;
      float dk = 0;
      for (int j = 0; j < N; j++) {
        s[j] += rs * sb[j];
        dk += s[j] * sa[j];
      }
      d_k[o + x] = dk;
      cum += double(ri) * d_r[o + x] - double(ki) * dk;
      d_logw[o + x] = float(cum);
      for (int j = 0; j < N; j++) s[j] *= wi;
      k.sync();
    }
    if (d_state0)
      for (int j = 0; j < N; j++) d_state0[bh * NN + x * N + j] = s[j];

    // 3. Column x backward: d_v.
    for (int i = 0; i < N; i++) s[i] = dsf ? dsf[i * N + x] : 0.0f;
    for (int t = T - 1; t >= 0; t--) {
      const int64_t o = off(t);
      sa[x] = r[o + x] * scale;
      sb[x] = kk[o + x];
      sc[x] = expf(logw[o + x]);
      k.sync();
      const float dj = d_out[o + x];
      float dv = 0;
      for (int i = 0; i < N; i++) {
        s[i] += sa[i] * dj;
        dv += s[i] * sb[i];
        s[i] *= sc[i];
      }
      d_v[o + x] = dv;
      k.sync();
    }
  }
};

}  // namespace radlads::gpu
