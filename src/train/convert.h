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

// How a run uses memory; none of it changes the result, so none of it is
// saved with the run (a resume may choose again).
struct RunControls {
  // Activation recompute in steps 2-3: auto (only where the memory plan
  // without it exceeds the budget), on or off. The same gradients either way.
  std::string recompute = "auto";
  bool dry_run = false;             // print every phase's memory plan and stop
  bool ignore_memory_plan = false;  // run even where the plan exceeds the budget
  double memory_budget_gb = 0;      // the memory this process may use; 0: what the machine has available
};

// resume: continue OUT from its latest checkpoint (the saved config wins over
// cfg, which may then be empty). Returns the results object ({"dry_run":
// true, "memory_plan": ...} for a dry run). Before loading anything it prints
// the memory plan of every phase still to run (train/memory_plan.h), and
// throws Error naming the phase and the numbers when one exceeds the memory
// this process may use. Throws Error (exit 2 at the CLI) on bad input or a
// corrupt checkpoint.
nlohmann::json run_convert(const ExecContext& ctx, RunConfig cfg, bool resume, const RunControls& rc = {});

// The teacher-vs-student held-out table of a results object, as markdown.
std::string heldout_table(const nlohmann::json& results);

}  // namespace radlads
