// The row kernels of softmax attention built on batched GEMMs
// (gpu_ops_attention.h): the causal softmax of a block of score rows and its
// backward. Scores S are (rows, Tk) row-major; row r is query q0 + r % Tq_rows
// of Tq in all, at position Tk − Tq + q, and sees keys 0 .. Tk − Tq + q.
// grid = rows, block kRowBlock, smem kRowBlock floats.
#pragma once

#include <cmath>
#include <cstdint>

#include "backend/cuda/kernels_norms.h"  // kRowBlock
#include "backend/cuda/simt.h"

namespace radlads::gpu {

// S ← softmax(S) over the visible keys, 0 beyond (S already holds scale·q·k).
struct CausalSoftmax {
  static constexpr bool kSync = true;
  template <class K>
  RADLADS_HD void operator()(const K& k, float* S, int rows_per_head, int q0, int Tq, int Tk) const {
    const int64_t r = k.bid();
    const int q = q0 + int(r % rows_per_head);
    const int last = Tk - Tq + q;  // the last visible key
    float* s = S + r * Tk;
    float* sh = k.template shared<float>();
    float mx = -INFINITY;
    for (int j = k.tid(); j <= last; j += k.bdim()) mx = fmaxf(mx, s[j]);
    mx = block_max(k, mx, sh);
    float z = 0;
    for (int j = k.tid(); j <= last; j += k.bdim()) z += expf(s[j] - mx);
    z = block_sum(k, z, sh);
    const float inv = 1.0f / z;
    for (int j = k.tid(); j < Tk; j += k.bdim()) s[j] = j <= last ? expf(s[j] - mx) * inv : 0.0f;
  }
};

// dP ← scale·P⊙(dP − Σ_j P·dP): the gradient of the scores (before the scale)
// from that of the probabilities; masked entries have P = 0 and get 0.
struct SoftmaxBackward {
  static constexpr bool kSync = true;
  template <class K>
  RADLADS_HD void operator()(const K& k, float* dP, const float* P, int Tk, float scale) const {
    const int64_t r = k.bid();
    float* d = dP + r * Tk;
    const float* p = P + r * Tk;
    float dot = 0;
    for (int j = k.tid(); j < Tk; j += k.bdim()) dot += p[j] * d[j];
    dot = block_sum(k, dot, k.template shared<float>());
    for (int j = k.tid(); j < Tk; j += k.bdim()) d[j] = scale * p[j] * (d[j] - dot);
  }
};

}  // namespace radlads::gpu
