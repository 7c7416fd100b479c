// One task on one model.
#include "eval/run_task.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <exception>

#include "core/error.h"

namespace radlads {

RequestEncoding request_encoding(const LanguageModel& lm, const Tokenizer& tok) {
  RequestEncoding e;
  e.add_bos = tok.spec().add_bos;
  e.bos = tok.bos();
  e.eos = tok.eos();
  e.max_length = lm.model().cfg.n_ctx_train > 0 ? lm.model().cfg.n_ctx_train : 2048;
  return e;
}

TaskRun run_task(LanguageModel& lm, const Tokenizer& tok, const EvalTask& task, bool keep_tokens,
                 const std::function<void(size_t, size_t)>& progress) {
  auto t0 = std::chrono::steady_clock::now();
  const RequestEncoding enc = request_encoding(lm, tok);
  const size_t n = task.items.size();

  // BPE is a fair share of the work for short requests: spread it over the threads.
  std::vector<std::vector<TokenizedRequest>> toks(n);
  std::exception_ptr err;
#pragma omp parallel for schedule(dynamic, 8)
  for (size_t i = 0; i < n; i++) {
    try {
      for (const EvalRequest& r : task.items[i].choices) toks[i].push_back(tokenize_request(tok, r, enc));
    } catch (...) {
#pragma omp critical
      if (!err) err = std::current_exception();
    }
  }
  if (err) std::rethrow_exception(err);

  // Consecutive items are scored together, up to kBatchTokens tokens: one
  // item's few short rows make small matrix products, several make efficient ones.
  constexpr size_t kBatchTokens = 2048;
  TaskRun run;
  run.scores.resize(n);
  std::vector<TokenizedRequest> group;
  for (size_t i = 0; i < n;) {
    group.clear();
    size_t j = i, tokens = 0;
    while (j < n && (j == i || tokens < kBatchTokens)) {
      for (const TokenizedRequest& r : toks[j]) {
        group.push_back(r);
        tokens += r.tokens.size();
      }
      j++;
    }
    std::vector<ChoiceScore> s = score_requests(lm, group, &run.tokens_fed);
    for (size_t k = 0; i < j; i++) {
      run.scores[i].assign(s.begin() + ptrdiff_t(k), s.begin() + ptrdiff_t(k + toks[i].size()));
      k += toks[i].size();
    }
    if (progress) progress(j, n);
  }
  if (keep_tokens) run.tokens = std::move(toks);
  run.metrics = compute_task_metrics(task, run.scores);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return run;
}

std::string request_dump_lines(const EvalTask& task, const TaskRun& run) {
  CHECK(run.tokens.size() == task.items.size(), "request_dump_lines needs a run made with keep_tokens");
  std::string out;
  for (size_t i = 0; i < task.items.size(); i++)
    for (size_t c = 0; c < run.tokens[i].size(); c++) {
      const EvalRequest& r = task.items[i].choices[c];
      nlohmann::json j = {{"task", task.name}, {"item", task.items[i].id}, {"choice", c},
                          {"gold", task.items[i].gold}, {"context", r.context},
                          {"continuation", r.continuation}, {"tokens", run.tokens[i][c].tokens},
                          {"n_cont", run.tokens[i][c].n_cont}, {"loglik", run.scores[i][c].loglik},
                          {"greedy", run.scores[i][c].greedy}};
      out += j.dump();
      out += '\n';
    }
  return out;
}

}  // namespace radlads
