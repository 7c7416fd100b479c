// RAD-RWKV6's fused stages (kernels.h) for a GPU runtime: functors over a
// thread context (backend/cuda/simt.h), one element per thread, each the
// formula of kernels_cpu.cpp; Rwkv6GpuKernels<RT>::table() launches them on
// runtime RT. kernels_cuda.cu builds the table for CudaRuntime ("cuda");
// the tests build it for the host emulation ("cuda-sim") and check every
// stage against the CPU table.
#pragma once

#include <cmath>
#include <cstdint>

#include "backend/cuda/simt.h"
#include "models/mixers/rad_rwkv6/kernels.h"

namespace radlads::rwkv6_gpu {

inline constexpr float kLogWMin = -5.0f;  // DESIGN.md: log w = max(−exp(d), −5)

struct Ptr5 {
  const float* p[5];
};

struct TokenShift {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* xprev, float* delta, float* xxx, const float* xn, const float* shift,
                             const float* maa_x, int64_t M, int T, int64_t C) const {
    RADLADS_GRID_STRIDE(e, M * C) {
      const int64_t i = e / C, c = e % C;
      const int t = int(i % T), b = int(i / T);
      const float xp = t > 0 ? xn[e - C] : (shift ? shift[int64_t(b) * C + c] : 0.0f);
      xprev[e] = xp;
      const float dl = xp - xn[e];
      delta[e] = dl;
      xxx[e] = xn[e] + dl * maa_x[c];
    }
  }
};

struct Mix5 {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* x5, const float* xn, const float* delta, Ptr5 maa, const float* m,
                             int64_t M, int64_t C) const {
    const int64_t n = M * C;
    RADLADS_GRID_STRIDE(e, 5 * n) {
      const int s = int(e / n);
      const int64_t i = e % n;
      x5[e] = xn[i] + delta[i] * (maa.p[s][i % C] + m[e]);
    }
  }
};

struct Decay {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* dd, float* logw, float* kbal, const float* td, const float* ke,
                             int64_t M, int64_t A, bool balance) const {
    RADLADS_GRID_STRIDE(i, M * A) {
      dd[i] += td[i % A];
      const float e = -expf(dd[i]);
      const float lw = e > kLogWMin ? e : kLogWMin;
      logw[i] = lw;
      kbal[i] = balance ? ke[i] * (1.0f - expf(lw)) : ke[i];
    }
  }
};

struct DecayBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_kb, float* d_lw, const float* logw, const float* ke,
                             const float* dd, int64_t M, int64_t A, bool balance) const {
    RADLADS_GRID_STRIDE(i, M * A) {
      float dlw = d_lw[i];
      if (balance) {
        const float w = expf(logw[i]);
        dlw -= d_kb[i] * ke[i] * w;
        d_kb[i] *= 1.0f - w;
      }
      d_lw[i] = -expf(dd[i]) >= kLogWMin ? dlw * logw[i] : 0.0f;
    }
  }
};

struct Sum5 {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_xn, const float* d_x5, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) d_xn[i] = d_x5[i] + d_x5[n + i] + d_x5[2 * n + i] + d_x5[3 * n + i] + d_x5[4 * n + i];
  }
};

struct MixBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_delta, float* d_m, const float* d_xs, const float* maa,
                             const float* ms, const float* delta, int64_t M, int64_t C) const {
    RADLADS_GRID_STRIDE(i, M * C) {
      d_delta[i] += d_xs[i] * (maa[i % C] + ms[i]);
      d_m[i] = d_xs[i] * delta[i];
    }
  }
};

struct XxxBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_delta, float* d_m, const float* d_xxx, const float* maa_x,
                             const float* delta, int64_t M, int64_t C) const {
    RADLADS_GRID_STRIDE(i, M * C) {
      d_delta[i] += d_xxx[i] * maa_x[i % C];
      d_m[i] = d_xxx[i] * delta[i];
    }
  }
};

struct TokenShiftBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_xn, const float* d_x5, const float* d_xxx, const float* d_delta,
                             int64_t M, int T, int64_t C) const {
    const int64_t n = M * C;
    RADLADS_GRID_STRIDE(j, n) {
      const int64_t i = j / C;
      float acc = d_x5[j] + d_x5[n + j] + d_x5[2 * n + j] + d_x5[3 * n + j] + d_x5[4 * n + j] + d_xxx[j] - d_delta[j];
      if (int(i % T) < T - 1) acc += d_delta[j + C];
      d_xn[j] = acc;
    }
  }
};

template <class RT>
struct Rwkv6GpuKernels {
  template <class Fn, class... A>
  static void run(int64_t n, A... a) {
    gpu::launch_elements<Fn>(RT(), n, a...);
  }
  static void token_shift(float* xprev, float* delta, float* xxx, const float* xn, const float* shift,
                          const float* maa_x, int64_t M, int T, int64_t C) {
    run<TokenShift>(M * C, xprev, delta, xxx, xn, shift, maa_x, M, T, C);
  }
  static void mix5(float* x5, const float* xn, const float* delta, const float* const maa[5], const float* m,
                   int64_t M, int64_t C) {
    const Ptr5 p{{maa[0], maa[1], maa[2], maa[3], maa[4]}};
    run<Mix5>(5 * M * C, x5, xn, delta, p, m, M, C);
  }
  static void decay(float* dd, float* logw, float* kbal, const float* td, const float* ke, int64_t M, int64_t A,
                    bool balance) {
    run<Decay>(M * A, dd, logw, kbal, td, ke, M, A, balance);
  }
  static void decay_backward(float* d_kb, float* d_lw, const float* logw, const float* ke, const float* dd, int64_t M,
                             int64_t A, bool balance) {
    run<DecayBackward>(M * A, d_kb, d_lw, logw, ke, dd, M, A, balance);
  }
  static void sum5(float* d_xn, const float* d_x5, int64_t M, int64_t C) { run<Sum5>(M * C, d_xn, d_x5, M * C); }
  static void mix_backward(float* d_delta, float* d_m, const float* d_xs, const float* maa, const float* ms,
                           const float* delta, int64_t M, int64_t C) {
    run<MixBackward>(M * C, d_delta, d_m, d_xs, maa, ms, delta, M, C);
  }
  static void xxx_backward(float* d_delta, float* d_m, const float* d_xxx, const float* maa_x, const float* delta,
                           int64_t M, int64_t C) {
    run<XxxBackward>(M * C, d_delta, d_m, d_xxx, maa_x, delta, M, C);
  }
  static void token_shift_backward(float* d_xn, const float* d_x5, const float* d_xxx, const float* d_delta, int64_t M,
                                   int T, int64_t C) {
    run<TokenShiftBackward>(M * C, d_xn, d_x5, d_xxx, d_delta, M, T, C);
  }
  static const Rwkv6Kernels& table() {
    static const Rwkv6Kernels t = {token_shift, mix5,         decay,        decay_backward,
                                   sum5,        mix_backward, xxx_backward, token_shift_backward};
    return t;
  }
};

}  // namespace radlads::rwkv6_gpu
