// Norm kernels (simt.h) with the CPU backend's formulas (backend/cpu/
// rmsnorm.h, group_norm.h, l2norm.h), reductions in double:
//  - RMSNorm: one block of kRowBlock threads per row, strided over C.
//  - GroupNorm and L2 norm: one thread per (row, head) over its N channels
//    (N is a head, 64 in practice).
//  - Parameter gradients: ColSum, one block per 32 columns whose 8 lanes walk
//    the rows in a fixed order (no atomics: the same bits run to run).
#pragma once

#include <cmath>
#include <cstdint>

#include "backend/cuda/simt.h"

namespace radlads::gpu {

inline constexpr int kRowBlock = 256;  // threads per row-reduction block (a power of two)

struct RmsnormForward {  // grid M, block kRowBlock, smem kRowBlock doubles
  static constexpr bool kSync = true;
  template <class K>
  RADLADS_HD void operator()(const K& k, float* out, float* rstd, const float* inp, const float* weight, int64_t C,
                             float eps) const {
    const int64_t m = k.bid();
    const float* x = inp + m * C;
    double ss = 0;
    for (int64_t c = k.tid(); c < C; c += k.bdim()) ss += double(x[c]) * x[c];
    ss = block_sum(k, ss, k.template shared<double>());
    const float r = float(1.0 / sqrt(ss / double(C) + eps));
    if (rstd && k.tid() == 0) rstd[m] = r;
    float* o = out + m * C;
    for (int64_t c = k.tid(); c < C; c += k.bdim()) o[c] = x[c] * r * weight[c];
  }
};

// dx_c = r·g_c − x_c·r³·(Σ_j g_j x_j)/C with g = dy⊙w (d_inp may alias d_out).
struct RmsnormBackward {  // grid M, block kRowBlock, smem kRowBlock doubles
  static constexpr bool kSync = true;
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_inp, const float* d_out, const float* inp, const float* weight,
                             const float* rstd, int64_t C) const {
    const int64_t m = k.bid();
    const float* x = inp + m * C;
    const float* dy = d_out + m * C;
    const double r = rstd[m];
    double dot = 0;
    for (int64_t c = k.tid(); c < C; c += k.bdim()) dot += double(dy[c]) * weight[c] * x[c];
    dot = block_sum(k, dot, k.template shared<double>());
    const float a = float(r), b = float(r * r * r * dot / double(C));
    float* dx = d_inp + m * C;
    for (int64_t c = k.tid(); c < C; c += k.bdim()) dx[c] = a * dy[c] * weight[c] - b * x[c];
  }
};

// out[c] += Σ_m e(m, c), c < n. grid ceil(n/32), block 256 (32 columns × 8
// lanes), smem 256 doubles. E: RADLADS_HD double operator()(int64_t m, int64_t c).
template <class E>
struct ColSum {
  static constexpr bool kSync = true;
  template <class K>
  RADLADS_HD void operator()(const K& k, float* out, E e, int64_t M, int64_t n) const {
    const int col = k.tid() % 32, lane = k.tid() / 32;
    const int64_t c = int64_t(k.bid()) * 32 + col;
    double s = 0;
    if (c < n)
      for (int64_t m = lane; m < M; m += 8) s += e(m, c);
    double* sh = k.template shared<double>();
    sh[k.tid()] = s;
    k.sync();
    if (lane == 0 && c < n) {
      double t = 0;
      for (int l = 0; l < 8; l++) t += sh[l * 32 + col];
      out[c] += float(t);
    }
  }
};

struct PlainElem {  // d[m, c]
  const float* d;
  int64_t n;
  RADLADS_HD double operator()(int64_t m, int64_t c) const { return d[m * n + c]; }
};

struct RmsnormWeightElem {  // dy·x·rstd
  const float *dy, *x, *rstd;
  int64_t C;
  RADLADS_HD double operator()(int64_t m, int64_t c) const {
    return double(dy[m * C + c]) * x[m * C + c] * double(rstd[m]);
  }
};

struct GroupNormWeightElem {  // dy·x̂
  const float *dy, *x, *mean, *rstd;
  int H, N;
  RADLADS_HD double operator()(int64_t m, int64_t c) const {
    const int64_t C = int64_t(H) * N, r = m * H + c / N;
    return double(dy[m * C + c]) * (double(x[m * C + c]) - mean[r]) * rstd[r];
  }
};

// One thread per (row, head): rows = M·H.
struct GroupNormForward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* out, float* mean, float* rstd, const float* inp, const float* weight,
                             const float* bias, int64_t rows, int H, int N, float eps) const {
    RADLADS_GRID_STRIDE(r, rows) {
      const float* x = inp + r * N;
      const int64_t c0 = (r % H) * N;
      double mu = 0;
      for (int n = 0; n < N; n++) mu += x[n];
      mu /= N;
      double var = 0;
      for (int n = 0; n < N; n++) var += (x[n] - mu) * (x[n] - mu);
      const double rs = 1.0 / sqrt(var / N + eps);
      if (mean) mean[r] = float(mu);
      if (rstd) rstd[r] = float(rs);
      float* y = out + r * N;
      for (int n = 0; n < N; n++) y[n] = float((x[n] - mu) * rs) * weight[c0 + n] + bias[c0 + n];
    }
  }
};

// dx = r·(g − mean(g) − x̂·mean(g·x̂)), g = dy·w (d_inp may alias d_out).
struct GroupNormBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_inp, const float* d_out, const float* inp, const float* weight,
                             const float* mean, const float* rstd, int64_t rows, int H, int N) const {
    RADLADS_GRID_STRIDE(r, rows) {
      const float* x = inp + r * N;
      const float* dy = d_out + r * N;
      const float* w = weight + (r % H) * N;
      const double mu = mean[r], rs = rstd[r];
      double sg = 0, sgx = 0;
      for (int n = 0; n < N; n++) {
        const double g = double(dy[n]) * w[n];
        sg += g;
        sgx += g * (x[n] - mu) * rs;
      }
      sg /= N;
      sgx /= N;
      float* dx = d_inp + r * N;
      for (int n = 0; n < N; n++) {
        const double xh = (x[n] - mu) * rs;
        dx[n] = float(rs * (double(dy[n]) * w[n] - sg - xh * sgx));
      }
    }
  }
};

// y = x / max(‖x‖, eps) per (row, head).
struct L2normForward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* out, const float* inp, int64_t rows, int N, double eps) const {
    RADLADS_GRID_STRIDE(r, rows) {
      const float* x = inp + r * N;
      double ss = 0;
      for (int n = 0; n < N; n++) ss += double(x[n]) * x[n];
      const double nrm = sqrt(ss);
      const double inv = 1.0 / (nrm > eps ? nrm : eps);
      float* y = out + r * N;
      for (int n = 0; n < N; n++) y[n] = float(x[n] * inv);
    }
  }
};

// ‖x‖ > eps: dx = (dy − y·(y·dy))/‖x‖; else dx = dy/eps (d_inp may alias d_out).
struct L2normBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_inp, const float* d_out, const float* inp, int64_t rows, int N,
                             double eps) const {
    RADLADS_GRID_STRIDE(r, rows) {
      const float* x = inp + r * N;
      const float* dy = d_out + r * N;
      double ss = 0, xdy = 0;
      for (int n = 0; n < N; n++) {
        ss += double(x[n]) * x[n];
        xdy += double(x[n]) * dy[n];
      }
      const double nrm = sqrt(ss);
      float* dx = d_inp + r * N;
      if (nrm > eps) {
        const double inv = 1.0 / nrm, proj = xdy * inv * inv;
        for (int n = 0; n < N; n++) dx[n] = float((dy[n] - x[n] * proj) * inv);
      } else {
        for (int n = 0; n < N; n++) dx[n] = float(dy[n] / eps);
      }
    }
  }
};

}  // namespace radlads::gpu
