// The benchmark suite as a library call, shared by `radlads eval` and the
// end of `radlads convert`: where the data lives, which tasks a spec like
// "lambada,hellaswag:500" names, and one model's results on them.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "backend/backend.h"
#include "eval/eval_report.h"
#include "eval/eval_task.h"

namespace radlads {

// $RADLADS_CACHE/eval, else ~/.cache/radlads/eval (scripts/setup.sh fills it).
std::string default_eval_data_dir();

// "lambada,hellaswag:500,mmlu:5": comma-separated tasks, each optionally with
// its own item limit; limit (-1: all) applies to the others. limits, when
// given, receives the limit used per task. Prints one line per task to stderr.
std::vector<EvalTask> load_eval_tasks(const std::string& spec, const std::string& data_dir, int64_t limit,
                                      int mmlu_shots, nlohmann::json* limits = nullptr);

// Loads the model at path and runs every task (progress on stderr).
ModelResults evaluate_model(const Backend& be, const std::string& path, const std::vector<EvalTask>& tasks, bool keep_tokens);

}  // namespace radlads
