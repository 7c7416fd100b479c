// Loss kernels (simt.h), the CPU backend's formulas (backend/cpu/losses.h):
// one block of kRowBlock threads per row, strided over V (or C), sums in
// double. Each row's loss goes to row_loss[m] (double); the host adds them in
// row order, so the sum is the same for any launch shape. A gradient may
// alias its logits: every pass reads an element before the last pass writes
// it, from the same thread.
#pragma once

#include <cmath>
#include <cstdint>

#include "backend/cuda/kernels_norms.h"  // kRowBlock
#include "backend/cuda/simt.h"

namespace radlads::gpu {

// Σ_m −log softmax(logits[m])[targets[m]]; a target < 0 is ignored (loss 0,
// gradient row 0). d_logits = grad_scale·(softmax − onehot), nullable.
// grid M, block kRowBlock, smem kRowBlock doubles.
struct CrossEntropy {
  static constexpr bool kSync = true;
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_logits, float* losses, double* row_loss, const float* logits,
                             const int32_t* targets, int64_t V, float grad_scale) const {
    const int64_t m = k.bid();
    const float* x = logits + m * V;
    double* sh = k.template shared<double>();
    const int32_t tg = targets[m];
    double mx = -INFINITY;
    for (int64_t v = k.tid(); v < V; v += k.bdim()) mx = fmax(mx, double(x[v]));
    mx = block_max(k, mx, sh);
    double z = 0;
    for (int64_t v = k.tid(); v < V; v += k.bdim()) z += exp(double(x[v]) - mx);
    z = block_sum(k, z, sh);
    const double lse = mx + log(z);
    if (k.tid() == 0) {
      const double loss = tg >= 0 ? lse - double(x[tg]) : 0.0;
      row_loss[m] = loss;
      if (losses) losses[m] = float(loss);
    }
    k.sync();  // x[tg] is read above before any thread overwrites it below
    if (d_logits) {
      float* d = d_logits + m * V;
      for (int64_t v = k.tid(); v < V; v += k.bdim()) {
        const double p = tg >= 0 ? exp(double(x[v]) - lse) : 0.0;
        d[v] = float(grad_scale * (p - (v == tg ? 1.0 : 0.0)));
      }
    }
  }
};

// Σ_m KL(p_T ‖ p_S); d_student = grad_scale·(softmax(s) − p_T), nullable.
// grid M, block kRowBlock, smem kRowBlock doubles.
struct KlDivergence {
  static constexpr bool kSync = true;
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_student, double* row_loss, const float* student,
                             const float* teacher, int64_t V, float grad_scale) const {
    const int64_t m = k.bid();
    const float* s = student + m * V;
    const float* t = teacher + m * V;
    double* sh = k.template shared<double>();
    double ms = -INFINITY, mt = -INFINITY;
    for (int64_t v = k.tid(); v < V; v += k.bdim()) {
      ms = fmax(ms, double(s[v]));
      mt = fmax(mt, double(t[v]));
    }
    ms = block_max(k, ms, sh);
    mt = block_max(k, mt, sh);
    double zs = 0, zt = 0;
    for (int64_t v = k.tid(); v < V; v += k.bdim()) {
      zs += exp(double(s[v]) - ms);
      zt += exp(double(t[v]) - mt);
    }
    zs = block_sum(k, zs, sh);
    zt = block_sum(k, zt, sh);
    const double lse_s = ms + log(zs), lse_t = mt + log(zt);
    double kl = 0;
    for (int64_t v = k.tid(); v < V; v += k.bdim()) {
      const double sv = s[v], tv = t[v];
      const double pt = exp(tv - lse_t);
      kl += pt * ((tv - lse_t) - (sv - lse_s));
      if (d_student) d_student[m * V + v] = float(grad_scale * (exp(sv - lse_s) - pt));
    }
    kl = block_sum(k, kl, sh);
    if (k.tid() == 0) row_loss[m] = kl;
  }
};

// Σ_m ‖y_T − y_S‖ / √C; d_student = grad_scale·(y_S − y_T)/(max(‖·‖, eps)·√C).
// grid M, block kRowBlock, smem kRowBlock doubles.
struct AlignL2 {
  static constexpr bool kSync = true;
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_student, double* row_loss, const float* ys, const float* yt,
                             int64_t C, float grad_scale, double eps) const {
    const int64_t m = k.bid();
    double ss = 0;
    for (int64_t c = k.tid(); c < C; c += k.bdim()) {
      const double d = double(ys[m * C + c]) - yt[m * C + c];
      ss += d * d;
    }
    ss = block_sum(k, ss, k.template shared<double>());
    const double nrm = sqrt(ss), rc = 1.0 / sqrt(double(C));
    if (k.tid() == 0) row_loss[m] = nrm * rc;
    if (d_student) {
      const double g = grad_scale * rc / (nrm > eps ? nrm : eps);
      for (int64_t c = k.tid(); c < C; c += k.bdim())
        d_student[m * C + c] = float(g * (double(ys[m * C + c]) - yt[m * C + c]));
    }
  }
};

// part[b] = Σ x² over block b of kBlock elements (the last may be short), in
// double. grid = blocks, block kRowBlock, smem kRowBlock doubles.
struct SumSquaresBlocks {
  static constexpr bool kSync = true;
  template <class K>
  RADLADS_HD void operator()(const K& k, double* part, const float* x, int64_t n, int64_t block) const {
    const int64_t b0 = int64_t(k.bid()) * block;
    const int64_t e = b0 + block < n ? b0 + block : n;
    double s = 0;
    for (int64_t i = b0 + k.tid(); i < e; i += k.bdim()) s += double(x[i]) * x[i];
    s = block_sum(k, s, k.template shared<double>());
    if (k.tid() == 0) part[k.bid()] = s;
  }
};

}  // namespace radlads::gpu
