// Next-token sampling: temperature, top-k, top-p; greedy when temp <= 0.
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace radlads {

struct SamplingParams {
  float temp = 0.8f;
  int top_k = 40;      // 0 = all
  float top_p = 0.95f; // 1 = off
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(SamplingParams p) : p_(p), rng_(p.seed) {}
  int32_t sample(std::span<const float> logits);

 private:
  SamplingParams p_;
  std::mt19937_64 rng_;
};

int32_t argmax(std::span<const float> v);

}  // namespace radlads
