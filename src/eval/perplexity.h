// Perplexity over non-overlapping windows: every token after the first of
// each window is scored given the tokens before it in that window.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "infer/language_model.h"

namespace radlads {

struct PerplexityResult {
  int64_t tokens = 0;      // tokens scored
  double nll = 0;          // mean negative log-likelihood per scored token (nats)
  double ppl = 0;          // exp(nll)
  double seconds = 0;
  double tokens_per_s = 0; // tokens processed (including unscored firsts) per second
  int64_t top1_hits = 0;   // argmax(logits) == next token
};

// ids: the text's tokens; windows of ctx tokens, the remainder dropped.
// progress(window, n_windows) is called after each window when non-null.
// A window is fed through one decode state in blocks of rows whose logits fit
// logit_bytes (64 MB: no (ctx, V) matrix at long context).
PerplexityResult perplexity(LanguageModel& lm, const std::vector<int32_t>& ids, int ctx,
                            const std::function<void(int, int)>& progress = {}, size_t logit_bytes = size_t(64) << 20);

// log softmax(logits)[target] in double; logits has V entries.
double log_prob(const float* logits, int V, int32_t target);

}  // namespace radlads
