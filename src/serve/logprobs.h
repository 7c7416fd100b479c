// Token log-probabilities for the OpenAI `logprobs` fields: the chosen
// token's log-softmax under the model's distribution (temperature 1, before
// top-k/top-p: what the model assigns, not what the sampler drew from) and
// the k most likely alternatives.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace radlads::serve {

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;  // the k most likely tokens, most likely first
};

// One pass for the log-sum-exp, one for the top k (k ≤ 20).
TokenLogprob token_logprob(std::span<const float> logits, int32_t id, int k);

}  // namespace radlads::serve
