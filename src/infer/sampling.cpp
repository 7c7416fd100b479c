// Sampler: keeps the top-k logits, softmax at temperature, trims to the
// smallest prefix whose mass reaches top-p, then draws.
#include "infer/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace radlads {

int32_t argmax(std::span<const float> v) {
  return int32_t(std::max_element(v.begin(), v.end()) - v.begin());
}

int32_t Sampler::sample(std::span<const float> logits) {
  if (p_.temp <= 0) return argmax(logits);
  const int V = int(logits.size());
  const int k = p_.top_k > 0 ? std::min(p_.top_k, V) : V;
  std::vector<int32_t> idx(static_cast<size_t>(V));
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int32_t a, int32_t b) { return logits[size_t(a)] > logits[size_t(b)]; });
  idx.resize(size_t(k));
  std::vector<double> p(static_cast<size_t>(k));
  const double mx = logits[size_t(idx[0])];
  double sum = 0;
  for (int i = 0; i < k; i++) sum += (p[size_t(i)] = std::exp((logits[size_t(idx[size_t(i)])] - mx) / p_.temp));
  int keep = k;
  if (p_.top_p < 1.0f) {
    double acc = 0;
    for (int i = 0; i < k; i++) {
      acc += p[size_t(i)] / sum;
      if (acc >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  std::discrete_distribution<int> d(p.begin(), p.begin() + keep);
  return idx[size_t(d(rng_))];
}

}  // namespace radlads
