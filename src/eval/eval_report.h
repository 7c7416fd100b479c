// The evaluation report: a markdown table (task, n, metric, model ± stderr,
// teacher ± stderr, ratio, relative score) and the same as one JSON object.
// The paper's relative score is (s - random) / (t - random), with random the
// task's chance level (TaskMetrics::chance; 0 for LAMBADA); it is not defined
// for perplexity, whose ratio alone is given (> 1 means worse).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "eval/eval_task.h"
#include "eval/run_task.h"

namespace radlads {

struct ModelResults {
  std::string path;
  std::vector<TaskRun> runs;  // one per task, in the tasks' order
  double seconds = 0;
};

std::string eval_markdown(const std::vector<EvalTask>& tasks, const ModelResults& model,
                          const ModelResults* teacher);

// settings: echoed under "settings" (limit, shots, threads...).
nlohmann::json eval_json(const std::vector<EvalTask>& tasks, const ModelResults& model,
                         const ModelResults* teacher, const nlohmann::json& settings);

// (s - chance) / (t - chance); NaN when t == chance.
double relative_score(double s, double t, double chance);

}  // namespace radlads
