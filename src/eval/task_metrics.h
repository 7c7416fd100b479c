// Task metrics from per-choice log-likelihoods, as lm-eval-harness computes
// them: acc (argmax of the log-likelihoods), acc_norm (argmax of the
// log-likelihood divided by the choice's length in characters), LAMBADA's acc
// (every token greedy) and perplexity, each with the standard error of the
// mean (sample standard deviation / sqrt(n)).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eval/eval_task.h"
#include "eval/loglikelihood.h"

namespace radlads {

struct Metric {
  double value = 0;
  double se = 0;  // standard error; NaN when n < 2
};

struct TaskMetrics {
  std::string task;
  int64_t n = 0;
  // Expected accuracy of a uniform random guess: the mean of 1/choices
  // (0.25 for four choices; ARC has a few 3- and 5-choice questions); 0 for LAMBADA.
  double chance = 0;
  std::vector<std::pair<std::string, Metric>> metrics;  // "acc", "acc_norm" | "acc", "ppl"
  const Metric* find(std::string_view name) const;
};

// scores[i][c]: choice c of task.items[i].
TaskMetrics compute_task_metrics(const EvalTask& task, const std::vector<std::vector<ChoiceScore>>& scores);

// Sample mean and its standard error (n - 1 in the variance, as the harness).
Metric mean_with_stderr(const std::vector<double>& x);

// The harness's acc_norm length: characters (code points) of the choice text,
// which is the continuation without its leading " " delimiter.
int64_t choice_length(std::string_view continuation);

}  // namespace radlads
