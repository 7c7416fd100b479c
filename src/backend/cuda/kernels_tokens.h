// Kernels that index by token or position (simt.h): the embedding gather and
// its scatter-add, and RoPE (backend/cpu/embedding.h, rope.h).
#pragma once

#include <cstdint>

#include "backend/cuda/simt.h"

namespace radlads::gpu {

// out (M, C) = table[tokens]; an id outside [0, V) writes a zero row and
// adds 1 to *bad (the host reads it and fails, naming the vocabulary).
struct EmbeddingForward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* out, float* bad, const float* table, const int32_t* tokens,
                             int64_t M, int64_t C, int64_t V) const {
    RADLADS_GRID_STRIDE(i, M * C) {
      const int64_t m = i / C, c = i % C;
      const int32_t id = tokens[m];
      if (id < 0 || id >= V) {
        out[i] = 0.0f;
        if (c == 0) k.atomic_add(bad, 1.0f);
      } else {
        out[i] = table[int64_t(id) * C + c];
      }
    }
  }
};

// d_table[tokens[m]] += d_out[m]; repeated tokens meet in atomic adds.
struct EmbeddingBackward {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* d_table, const float* d_out, const int32_t* tokens, int64_t M,
                             int64_t C) const {
    RADLADS_GRID_STRIDE(i, M * C) {
      const int64_t m = i / C, c = i % C;
      k.atomic_add(&d_table[int64_t(tokens[m]) * C + c], d_out[i]);
    }
  }
};

// Rotates each (i, i + N/2) pair of x (M, nh, N) by sign·angle(pos[m], i),
// HF rotate_half; cos/sin (n_pos, N/2) the RopeTable's, copied to the device.
struct RopeRotate {
  template <class K>
  RADLADS_HD void operator()(const K& k, float* x, const int32_t* pos, const float* cos_t, const float* sin_t,
                             int64_t M, int nh, int N, float sign) const {
    const int half = N / 2;
    RADLADS_GRID_STRIDE(e, M * nh * half) {
      const int64_t row = e / half;  // (m, h)
      const int i = int(e % half);
      const int64_t m = row / nh;
      const int64_t p = int64_t(pos[m]) * half + i;
      const float c = cos_t[p], s = sign * sin_t[p];
      float* v = x + row * N;
      const float a = v[i], b = v[i + half];
      v[i] = a * c - b * s;
      v[i + half] = b * c + a * s;
    }
  }
};

}  // namespace radlads::gpu
