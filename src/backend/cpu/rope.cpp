// RoPE forward and backward. Angles are computed in double once per table so
// that long contexts keep full precision in the cos/sin values.
#include "backend/cpu/rope.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace radlads {

// Rotates each (i, i + N/2) pair by +angle (sign = 1) or -angle (sign = -1).
template <typename F>
static void rope_rotate(F* x, const int32_t* pos, int64_t M, int nh, const RopeTable& t, F sign) {
  const int N = t.N, half = N / 2;
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; m++) {
    CHECK(pos[m] >= 0 && pos[m] < t.n_pos, "position {} outside rope table {}", pos[m], t.n_pos);
    const float* c = t.cos.data() + size_t(pos[m]) * half;
    const float* s = t.sin.data() + size_t(pos[m]) * half;
    for (int h = 0; h < nh; h++) {
      F* v = x + (m * nh + h) * N;
      for (int i = 0; i < half; i++) {
        const F a = v[i], b = v[i + half], ci = c[i], si = sign * F(s[i]);
        v[i] = a * ci - b * si;
        v[i + half] = b * ci + a * si;
      }
    }
  }
}

template <typename F>
void rope_forward_t(F* x, const int32_t* pos, int64_t M, int nh, const RopeTable& t) {
  rope_rotate<F>(x, pos, M, nh, t, F(1));
}

// y1 = a c - b s, y2 = b c + a s  =>  da = dy1 c + dy2 s, db = dy2 c - dy1 s:
// the same rotation with s negated.
template <typename F>
void rope_backward_t(F* d_x, const int32_t* pos, int64_t M, int nh, const RopeTable& t) {
  rope_rotate<F>(d_x, pos, M, nh, t, F(-1));
}

template void rope_forward_t<float>(float*, const int32_t*, int64_t, int, const RopeTable&);
template void rope_forward_t<double>(double*, const int32_t*, int64_t, int, const RopeTable&);
template void rope_backward_t<float>(float*, const int32_t*, int64_t, int, const RopeTable&);
template void rope_backward_t<double>(double*, const int32_t*, int64_t, int, const RopeTable&);

void rope_forward(float* x, const int32_t* pos, int64_t M, int nh, const RopeTable& t) {
  rope_forward_t<float>(x, pos, M, nh, t);
}

void rope_backward(float* d_x, const int32_t* pos, int64_t M, int nh, const RopeTable& t) {
  rope_backward_t<float>(d_x, pos, M, nh, t);
}

}  // namespace radlads
