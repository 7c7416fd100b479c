#include "backend/rope_table.h"

#include <algorithm>
#include <cmath>

namespace radlads {

void RopeTable::ensure(int max_pos) {
  if (max_pos <= n_pos) return;
  // Grow geometrically, so that a context growing token by token past what
  // its decode state reserved reallocates a few times, not at each position.
  max_pos = std::max(max_pos, 2 * n_pos);
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

}  // namespace radlads
