// `radlads convert`: RADLADS steps 0 → 1 → 2 → 3 and the teacher-vs-student
// comparison, in one resumable run. OUT holds
//   config.json        the resolved run config (also inside every checkpoint)
//   metrics.jsonl      one line per optimiser step and per held-out evaluation
//   checkpoints/       see train/checkpoint.h; `latest` names the newest
//   student/           the final student (HF folder), written at the end
//   results.json       the held-out table (the CLI adds the benchmark
//                      comparison of eval_tasks, which lives above train)
// The single-step commands (align, distill, extend) are runs with one budget.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "engine/context.h"
#include "train/run_config.h"

namespace radlads {

// resume: continue OUT from its latest checkpoint (the saved config wins over
// cfg, which may then be empty). Returns the results object. Throws Error
// (exit 2 at the CLI) on bad input or a corrupt checkpoint.
nlohmann::json run_convert(const ExecContext& ctx, RunConfig cfg, bool resume);

// The teacher-vs-student held-out table of a results object, as markdown.
std::string heldout_table(const nlohmann::json& results);

}  // namespace radlads
