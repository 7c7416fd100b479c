// Runs one task on one model: tokenize every request, score item by item,
// compute the metrics; optionally dump each request's tokens and score.
#pragma once

#include <cstdint>
#include <string>
#include <functional>
#include <vector>

#include "eval/eval_task.h"
#include "eval/loglikelihood.h"
#include "eval/task_metrics.h"
#include "infer/language_model.h"
#include "text/tokenizer.h"

namespace radlads {

struct TaskRun {
  TaskMetrics metrics;
  std::vector<std::vector<ChoiceScore>> scores;  // [item][choice]
  std::vector<std::vector<TokenizedRequest>> tokens;  // [item][choice], kept on request
  int64_t tokens_fed = 0;  // tokens run through the model
  double seconds = 0;
};

// How the model's tokenizer frames requests: BOS only when its spec says
// add_bos; inputs cut to the model's trained context (2048 when unknown).
RequestEncoding request_encoding(const LanguageModel& lm, const Tokenizer& tok);

// keep_tokens keeps every request's tokens in the result (for
// request_dump_lines). progress(items done, total) is called after each batch.
TaskRun run_task(LanguageModel& lm, const Tokenizer& tok, const EvalTask& task, bool keep_tokens,
                 const std::function<void(size_t, size_t)>& progress = {});

// One JSON line per request of a run made with keep_tokens: task, item id,
// choice, gold, context, continuation, `tokens` (the context and continuation tokens: the model saw
// all but the last), `n_cont` (how many at the end are scored), loglik, greedy.
std::string request_dump_lines(const EvalTask& task, const TaskRun& run);

}  // namespace radlads
