// Perplexity windows.
#include "eval/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"

namespace radlads {

double log_prob(const float* logits, int V, int32_t target) {
  float mx = logits[0];
  for (int i = 1; i < V; i++) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int i = 0; i < V; i++) sum += std::exp(double(logits[i]) - mx);
  return double(logits[target]) - mx - std::log(sum);
}

PerplexityResult perplexity(LanguageModel& lm, const std::vector<int32_t>& ids, int ctx,
                            const std::function<void(int, int)>& progress, size_t logit_bytes) {
  if (ctx < 2) fail("--ctx must be at least 2, got {}", ctx);
  const int n_win = int(ids.size() / size_t(ctx));
  if (n_win == 0) fail("the text has {} tokens, fewer than one window of {}", ids.size(), ctx);
  const int V = lm.n_vocab();
  const int rows = int(std::clamp<size_t>(logit_bytes / (sizeof(float) * size_t(V)), 1, size_t(ctx)));
  std::vector<float> scratch;
  PerplexityResult r;
  double nll_sum = 0;
  int64_t hits = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int w = 0; w < n_win; w++) {
    const int32_t* win = ids.data() + size_t(w) * ctx;
    auto state = lm.new_state(ctx);
    feed_scoring(*state, V, win, ctx, rows, scratch, [&](int first, int count, const float* logits) {
#pragma omp parallel for reduction(+ : nll_sum) reduction(+ : hits) schedule(static)
      for (int i = 0; i < count; i++) {
        const float* row = logits + size_t(i) * V;
        const int32_t target = win[first + i];
        nll_sum -= log_prob(row, V, target);
        int best = 0;
        for (int k = 1; k < V; k++)
          if (row[k] > row[best]) best = k;
        hits += best == target;
      }
    }, nullptr);
    r.tokens += ctx - 1;
    if (progress) progress(w + 1, n_win);
  }
  r.top1_hits = hits;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.nll = nll_sum / double(r.tokens);
  r.ppl = std::exp(r.nll);
  r.tokens_per_s = double(n_win) * ctx / r.seconds;
  return r;
}

}  // namespace radlads
