// Element-wise kernels (simt.h): grid-stride loops, one element per thread
// and step. The formulas are the CPU backend's (backend/cpu/activations.h,
// elementwise.h, swiglu.h, gqa.h, vector_kernels.h), in fp32.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "backend/backend.h"  // AdamWStep
#include "backend/cuda/simt.h"

namespace radlads::gpu {

struct Fill {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* x, float value, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) x[i] = value;
  }
};

struct AddInplace {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* x, const float* y, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) x[i] += y[i];
  }
};

struct ScaleInplace {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* x, float s, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) x[i] *= s;
  }
};

struct Mul {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* out, const float* a, const float* b, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) out[i] = a[i] * b[i];
  }
};

struct MulBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_a, float* d_b, const float* d_out, const float* a, const float* b,
                             int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) {
      const float d = d_out[i], ai = a[i], bi = b[i];
      d_a[i] = d * bi;
      d_b[i] = d * ai;
    }
  }
};

struct TanhForward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* out, const float* inp, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) out[i] = tanhf(inp[i]);
  }
};

struct TanhBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_inp, const float* d_out, const float* out, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) d_inp[i] = d_out[i] * (1.0f - out[i] * out[i]);
  }
};

struct SigmoidForward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* out, const float* inp, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) out[i] = 1.0f / (1.0f + expf(-inp[i]));
  }
};

struct SigmoidBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_inp, const float* d_out, const float* out, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) d_inp[i] = d_out[i] * out[i] * (1.0f - out[i]);
  }
};

struct SwigluForward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* out, const float* gate, const float* up, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) {
      const float g = gate[i];
      out[i] = g / (1.0f + expf(-g)) * up[i];
    }
  }
};

// d silu/dg = σ(g)·(1 + g·(1 − σ(g))).
struct SwigluBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_gate, float* d_up, const float* d_out, const float* gate,
                             const float* up, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) {
      const float g = gate[i], u = up[i], dy = d_out[i];
      const float s = 1.0f / (1.0f + expf(-g));
      d_gate[i] = dy * u * s * (1.0f + g * (1.0f - s));
      d_up[i] = dy * g * s;
    }
  }
};

// out (M, H, N) from inp (M, KVH, N): head h reads KV head h / (H/KVH).
struct GqaExpand {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* out, const float* inp, int64_t M, int H, int KVH, int N) const {
    const int rep = H / KVH;
    RADLADS_GRID_STRIDE(i, M * H * N) {
      const int64_t m = i / (int64_t(H) * N);
      const int h = int(i / N % H), n = int(i % N);
      out[i] = inp[(m * KVH + h / rep) * N + n];
    }
  }
};

// d_inp (M, KVH, N) = Σ over the group's query heads of d_out (M, H, N).
struct GqaReduce {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_inp, const float* d_out, int64_t M, int H, int KVH, int N) const {
    const int rep = H / KVH;
    RADLADS_GRID_STRIDE(i, M * KVH * N) {
      const int64_t m = i / (int64_t(KVH) * N);
      const int g = int(i / N % KVH), n = int(i % N);
      float s = 0;
      for (int r = 0; r < rep; r++) s += d_out[(m * H + g * rep + r) * N + n];
      d_inp[i] = s;
    }
  }
};

// out (M, OC) += bias (OC) on every row.
struct AddRowBias {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* out, const float* bias, int64_t M, int64_t OC) const {
    RADLADS_GRID_STRIDE(i, M * OC) out[i] += bias[i % OC];
  }
};

struct AdamW {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* w, float* m, float* v, const float* g, int64_t n, AdamWStep s) const {
    RADLADS_GRID_STRIDE(j, n) {
      const float gj = g[j];
      const float mj = s.b1 * m[j] + (1.0f - s.b1) * gj;
      const float vj = s.b2 * v[j] + (1.0f - s.b2) * gj * gj;
      m[j] = mj, v[j] = vj;
      w[j] = w[j] * s.decay - s.step_size * mj / (sqrtf(vj) / s.sqrt_bc2 + s.eps);
    }
  }
};

// fp32 → bf16 bits, rounded to nearest even (NaN kept a quiet NaN).
RADLADS_HD inline uint16_t to_bf16_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);
  return uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

struct ToBf16 {
  template <class K>
  RADLADS_HD void operator()(const K& k, uint16_t* out, const float* inp, int64_t n) const {
    RADLADS_GRID_STRIDE(i, n) out[i] = to_bf16_bits(inp[i]);
  }
};

}  // namespace radlads::gpu
