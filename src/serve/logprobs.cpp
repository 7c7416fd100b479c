// Token log-probabilities (logprobs.h).
#include "serve/logprobs.h"

#include <algorithm>
#include <cmath>

namespace radlads::serve {

TokenLogprob token_logprob(std::span<const float> logits, int32_t id, int k) {
  double mx = -INFINITY;
  for (float x : logits) mx = std::max(mx, double(x));
  double sum = 0;
  for (float x : logits) sum += std::exp(double(x) - mx);
  const double lse = mx + std::log(sum);
  TokenLogprob r;
  r.id = id;
  r.logprob = float(double(logits[size_t(id)]) - lse);
  // The k largest in one pass: a small list kept sorted, most likely first
  // (ties: the lower id first, as a stable sort of the vocabulary would).
  auto before = [](const std::pair<int32_t, float>& a, const std::pair<int32_t, float>& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  r.top.reserve(size_t(k) + 1);
  for (size_t i = 0; i < logits.size() && k > 0; i++) {
    const std::pair<int32_t, float> c{int32_t(i), logits[i]};
    if (int(r.top.size()) == k && !before(c, r.top.back())) continue;
    r.top.insert(std::upper_bound(r.top.begin(), r.top.end(), c, before), c);
    if (int(r.top.size()) > k) r.top.pop_back();
  }
  for (auto& [t, lp] : r.top) lp = float(double(lp) - lse);
  return r;
}

}  // namespace radlads::serve
