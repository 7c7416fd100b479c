// Helpers shared by the WKV6 and WKV7 op tests: token slices of (B,T,H,N)
// tensors, realistic random inputs, and a directional finite-difference check
// for shapes too large to difference entry by entry.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "fd_check.h"

namespace radlads::test {

// Rows [t0, t1) of a (B,T,H,N) tensor as a (B, t1-t0, H, N) tensor.
template <typename V>
V slice_tokens(const V& x, int B, int T, int HN, int t0, int t1) {
  V out(size_t(B) * (t1 - t0) * HN);
  for (int b = 0; b < B; b++)
    for (int t = t0; t < t1; t++)
      for (int e = 0; e < HN; e++)
        out[(size_t(b) * (t1 - t0) + (t - t0)) * HN + e] = x[(size_t(b) * T + t) * HN + e];
  return out;
}

// Writes a (B, t1-t0, H, N) slice back into rows [t0, t1) of a (B,T,H,N) tensor.
template <typename V>
void put_tokens(V& x, const V& part, int B, int T, int HN, int t0, int t1) {
  for (int b = 0; b < B; b++)
    for (int t = t0; t < t1; t++)
      for (int e = 0; e < HN; e++)
        x[(size_t(b) * T + t) * HN + e] = part[(size_t(b) * (t1 - t0) + (t - t0)) * HN + e];
}

// Uniform values in [lo, hi), rounded through float like randn_d.
inline std::vector<double> uniform_d(size_t n, uint64_t seed, double lo, double hi) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = double(float(d(g)));
  return v;
}

inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Relative error of the directional derivative along a random direction d of x:
// |(L(x+hd) − L(x−hd))/2h − g·d| / |g·d|. One pair of forwards checks every
// entry of g at once: an error e in g shows as e·d/g·d ≈ |e|/|g| for a random
// d. (Dividing by |g||d| instead would shrink every error by ~1/√n and let a
// 1e-4 relative mistake through at n = 1e5.) A correct double backward gives
// ≲ 1e-8 here at n ≈ 1e5 (FD rounding ~1e-16·|L|/h over a g·d of 1e1..1e3);
// the floor on the divisor only guards a pathological g ⟂ d.
template <typename Loss>
double directional_rel_err(std::vector<double>& x, const std::vector<double>& g, Loss&& loss,
                           uint64_t seed, double h = kFdStep) {
  const auto d = randn_d(x.size(), seed);
  const std::vector<double> x0 = x;
  for (size_t i = 0; i < x.size(); i++) x[i] = x0[i] + h * d[i];
  const double lp = loss();
  for (size_t i = 0; i < x.size(); i++) x[i] = x0[i] - h * d[i];
  const double lm = loss();
  x = x0;
  const double fd = (lp - lm) / (2 * h);
  const double gd = dot(g, d);
  return std::abs(fd - gd) / std::max(std::abs(gd), 1e-6 * std::sqrt(dot(g, g) * dot(d, d)));
}

}  // namespace radlads::test
