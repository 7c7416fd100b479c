// RoPE forward. Angles are computed in double once per table so that long
// contexts keep full precision in the cos/sin values.
#include "ops/rope.h"

#include <cmath>

#include "core/error.h"

namespace radlads {

void RopeTable::ensure(int max_pos) {
  if (max_pos <= n_pos) return;
  const int half = N / 2;
  cos.resize(size_t(max_pos) * half);
  sin.resize(size_t(max_pos) * half);
  for (int p = n_pos; p < max_pos; p++)
    for (int i = 0; i < half; i++) {
      double a = double(p) * std::pow(theta, -2.0 * i / N);
      cos[size_t(p) * half + i] = float(std::cos(a));
      sin[size_t(p) * half + i] = float(std::sin(a));
    }
  n_pos = max_pos;
}

void rope_forward(float* x, const int32_t* pos, int64_t M, int nh, const RopeTable& t) {
  const int N = t.N, half = N / 2;
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; m++) {
    CHECK(pos[m] >= 0 && pos[m] < t.n_pos, "position {} outside rope table {}", pos[m], t.n_pos);
    const float* c = t.cos.data() + size_t(pos[m]) * half;
    const float* s = t.sin.data() + size_t(pos[m]) * half;
    for (int h = 0; h < nh; h++) {
      float* v = x + (m * nh + h) * N;
      for (int i = 0; i < half; i++) {
        float a = v[i], b = v[i + half];
        v[i] = a * c[i] - b * s[i];
        v[i + half] = b * c[i] + a * s[i];
      }
    }
  }
}

}  // namespace radlads
