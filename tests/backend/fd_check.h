// Finite-difference gradient checks for the op tests: central differences of a
// double-precision scalar loss against an op's analytic (double) backward, and
// helpers to run the same inputs through the fp32 path.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <type_traits>
#include <vector>

#include "../test_util.h"

namespace radlads::test {

// FD check tolerance (normalised error over the sampled entries). Everything is
// double: with step h = 1e-5 on O(1) inputs the truncation error of a central
// difference is ~h²·|f'''/f'|/6 ≈ 1e-11, and rounding adds ~1e-16·|L_i|/h per
// loss term L_i the perturbed entry touches (≈1e-11; see fd_rel_err). Measured
// on correct backwards: ≤ 1e-9 for every op, ≤ 3e-8 for the losses (whose
// logit gradients are small beside their row losses, see test_losses.cpp). A
// wrong term (a missed factor, a dropped sum over a group, a transposed index)
// is O(1e-3..1). 1e-6 leaves well over a decade on both sides.
inline constexpr double kFdTol = 1e-6;
inline constexpr double kFdStep = 1e-5;

// Normal values rounded through float, so the fp32 path sees exactly the same
// inputs as the double one.
inline std::vector<double> randn_d(size_t n, uint64_t seed, double scale = 1.0) {
  auto f = randn(n, seed, float(scale));
  return std::vector<double>(f.begin(), f.end());
}

inline std::vector<float> to_f(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); i++) s += a[i] * b[i];
  return s;
}

// Entries to check: all when n ≤ max_entries, else the first, the last and a
// random sample (boundary rows are where masks and edge cases live).
inline std::vector<size_t> sample_indices(size_t n, size_t max_entries, uint64_t seed) {
  std::vector<size_t> idx;
  if (n <= max_entries) {
    idx.resize(n);
    std::iota(idx.begin(), idx.end(), size_t(0));
    return idx;
  }
  std::mt19937_64 g(seed);
  idx = {0, n - 1};
  while (idx.size() < max_entries) idx.push_back(size_t(g() % n));
  return idx;
}

// Elementwise product: the terms of L = Σ out·d_out, for fd_rel_err.
inline std::vector<double> terms(const std::vector<double>& out, const std::vector<double>& d_out) {
  std::vector<double> r(out.size());
  for (size_t i = 0; i < out.size(); i++) r[i] = out[i] * d_out[i];
  return r;
}

// ‖g_fd - g_analytic‖ / ‖g_fd‖ over sampled entries of x, where loss() reads x
// (by reference) and g_fd[i] = (L(x + h e_i) - L(x - h e_i)) / 2h. loss() may
// return the scalar L or the vector of its terms (L = their sum); terms are
// differenced one by one before summing, so those the perturbed entry does not
// touch cancel exactly instead of adding eps·|L|/h of rounding noise.
template <typename Loss>
double fd_rel_err(std::vector<double>& x, const std::vector<double>& analytic, Loss&& loss,
                  size_t max_entries = 48, uint64_t seed = 7, double h = kFdStep) {
  double num = 0, den = 0;
  for (size_t i : sample_indices(x.size(), max_entries, seed)) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const auto lp = loss();
    x[i] = x0 - h;
    const auto lm = loss();
    x[i] = x0;
    double diff = 0;
    if constexpr (std::is_same_v<std::decay_t<decltype(lp)>, double>) {
      diff = lp - lm;
    } else {
      for (size_t j = 0; j < lp.size(); j++) diff += lp[j] - lm[j];
    }
    const double fd = diff / (2 * h);
    num += (fd - analytic[i]) * (fd - analytic[i]);
    den += fd * fd;
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}

inline bool all_finite(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

// a - b elementwise: the increment a parameter gradient received on top of
// its initial contents (checks the += rule).
inline std::vector<double> minus(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r(a.size());
  for (size_t i = 0; i < a.size(); i++) r[i] = a[i] - b[i];
  return r;
}
inline std::vector<double> minus(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<double> r(a.size());
  for (size_t i = 0; i < a.size(); i++) r[i] = double(a[i]) - double(b[i]);
  return r;
}

inline std::vector<double> nan_d(size_t n) { return std::vector<double>(n, NAN); }
inline std::vector<float> nan_f(size_t n) { return std::vector<float>(n, NAN); }

}  // namespace radlads::test
