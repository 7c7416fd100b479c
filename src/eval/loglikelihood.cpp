// Tokenizing and scoring log-likelihood requests.
#include "eval/loglikelihood.h"

#include <algorithm>

#include "core/error.h"
#include "eval/perplexity.h"
#include "eval/python_strip.h"

namespace radlads {

TokenizedRequest tokenize_request(const Tokenizer& tok, const EvalRequest& r, const RequestEncoding& enc) {
  std::string ctx = r.context, cont = r.continuation;
  // Trailing whitespace (Python's rstrip) moves to the continuation, where
  // the pre-tokenizer would have joined it with the next word anyway.
  size_t keep = python_rstrip_end(ctx);
  if (keep < ctx.size()) {
    cont = ctx.substr(keep) + cont;
    ctx.resize(keep);
  }
  std::vector<int32_t> ctx_enc = ctx.empty() ? std::vector<int32_t>{} : tok.encode(ctx, false);
  std::vector<int32_t> cont_enc;
  if (!ctx_enc.empty()) {
    std::vector<int32_t> whole = tok.encode(ctx + cont, false);
    if (whole.size() > ctx_enc.size()) cont_enc.assign(whole.begin() + ptrdiff_t(ctx_enc.size()), whole.end());
  }
  if (cont_enc.empty() && !cont.empty()) cont_enc = tok.encode(cont, false);
  if (enc.add_bos) {
    if (enc.bos < 0) fail("the model's tokenizer adds BOS but has no BOS token");
    ctx_enc.insert(ctx_enc.begin(), enc.bos);
  }
  if (ctx_enc.empty()) {
    // The harness scores an empty context after its end-of-text token.
    if (enc.eos < 0) fail("an empty context needs an EOS token, and the model's tokenizer has none");
    ctx_enc.push_back(enc.eos);
  }
  TokenizedRequest t;
  t.tokens = std::move(ctx_enc);
  t.tokens.insert(t.tokens.end(), cont_enc.begin(), cont_enc.end());
  if (enc.max_length > 0 && t.tokens.size() > size_t(enc.max_length) + 1)
    t.tokens.erase(t.tokens.begin(), t.tokens.end() - (enc.max_length + 1));
  // The first token has no prediction, so at most size - 1 tokens are scored.
  t.n_cont = int(std::min(cont_enc.size(), t.tokens.size() - 1));
  return t;
}

std::vector<ChoiceScore> score_requests(LanguageModel& lm, std::span<const TokenizedRequest> reqs,
                                        int64_t* tokens_fed, size_t max_logits_bytes) {
  const int V = lm.n_vocab();
  const size_t n = reqs.size();
  std::vector<ChoiceScore> out(n);
  // The model's input for a request is all its tokens but the last.
  auto in_len = [&](size_t i) { return reqs[i].tokens.empty() ? size_t(0) : reqs[i].tokens.size() - 1; };

  // Longest inputs first, so that shorter ones find a row they are a prefix of.
  std::vector<size_t> order;
  for (size_t i = 0; i < n; i++) {
    for (int32_t id : reqs[i].tokens)
      if (id < 0 || id >= V) fail("token id {} is outside the model's vocabulary of {}", id, V);
    if (reqs[i].n_cont > 0) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return in_len(a) > in_len(b); });
  std::vector<size_t> rows;              // the request whose input each row holds
  std::vector<size_t> row_of(n, SIZE_MAX);
  for (size_t i : order) {
    const auto& ti = reqs[i].tokens;
    for (size_t r = 0; r < rows.size() && row_of[i] == SIZE_MAX; r++)
      if (std::equal(ti.begin(), ti.begin() + ptrdiff_t(in_len(i)), reqs[rows[r]].tokens.begin()))
        row_of[i] = r;
    if (row_of[i] == SIZE_MAX) {
      row_of[i] = rows.size();
      rows.push_back(i);
    }
  }

  std::vector<int32_t> batch;
  std::vector<float> logits;
  for (size_t r0 = 0; r0 < rows.size();) {
    // Rows are sorted by falling length, so the group's first row sets T.
    const size_t T = in_len(rows[r0]);
    const size_t row_bytes = T * size_t(V) * sizeof(float);
    size_t B = std::max<size_t>(1, std::min(rows.size() - r0, max_logits_bytes / std::max<size_t>(row_bytes, 1)));
    // A row much shorter than T would be mostly padding: it starts the next call.
    for (size_t b = 1; b < B; b++)
      if (4 * in_len(rows[r0 + b]) < 3 * T) {
        B = b;
        break;
      }
    batch.assign(B * T, 0);  // token 0 pads: any id works, nothing before it depends on it
    for (size_t b = 0; b < B; b++) {
      const auto& t = reqs[rows[r0 + b]].tokens;
      std::copy(t.begin(), t.begin() + ptrdiff_t(in_len(rows[r0 + b])), batch.begin() + ptrdiff_t(b * T));
      if (tokens_fed) *tokens_fed += int64_t(in_len(rows[r0 + b]));
    }
    logits.resize(B * T * size_t(V));
    lm.score(batch.data(), int(B), int(T), logits.data());

    // Every (request, scored position) of this group, computed in parallel.
    struct Job {
      size_t req;
      const float* row;
      int32_t target;
    };
    std::vector<Job> jobs;
    for (size_t i = 0; i < n; i++) {
      if (row_of[i] == SIZE_MAX || row_of[i] < r0 || row_of[i] >= r0 + B) continue;
      const auto& t = reqs[i].tokens;
      const size_t len = in_len(i);
      for (size_t p = len - size_t(reqs[i].n_cont); p < len; p++)
        jobs.push_back({i, logits.data() + ((row_of[i] - r0) * T + p) * size_t(V), t[p + 1]});
    }
    std::vector<double> lp(jobs.size());
    std::vector<char> top(jobs.size());
#pragma omp parallel for schedule(static)
    for (size_t k = 0; k < jobs.size(); k++) {
      const float* row = jobs[k].row;
      lp[k] = log_prob(row, V, jobs[k].target);
      int best = 0;  // the first maximum, as argmax in torch and numpy
      for (int v = 1; v < V; v++)
        if (row[v] > row[best]) best = v;
      top[k] = best == jobs[k].target;
    }
    for (size_t k = 0; k < jobs.size(); k++) {
      out[jobs[k].req].loglik += lp[k];
      out[jobs[k].req].greedy = out[jobs[k].req].greedy && top[k];
    }
    r0 += B;
  }
  return out;
}

}  // namespace radlads
