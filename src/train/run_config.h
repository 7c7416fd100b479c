// One typed configuration for a conversion run (CONVENTIONS.md 12): parsed
// once from the command line, resolved (the paper's defaults scaled by the
// budgets), printed at start and saved with every checkpoint. A resumed run
// reads it back from the checkpoint, so its data order and schedule match.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "train/lr_schedule.h"

namespace radlads {

// One of DESIGN.md's steps 1–3.
struct PhaseConfig {
  std::string name;      // "align" | "distill" | "extend"
  int64_t tokens = 0;    // budget of training tokens; 0 skips the phase
  int seq_len = 512;     // T
  int batch = 8;         // windows per optimiser step (the global batch)
  int micro_batch = 1;   // windows per forward/backward (accumulated up to batch)
  LrSchedule lr;
  double clip = 1.0;     // global gradient-norm clip
  double kl_weight = 0, ce_weight = 0;  // distill / extend losses
  // Steps with a non-finite loss or gradient norm skipped in a row (no
  // update, the weights of the step before) before the phase stops; 0: stop at the first.
  int skip_nonfinite = 0;

  int64_t tokens_per_step() const { return int64_t(batch) * seq_len; }
  int64_t steps() const;  // ceil(tokens / tokens_per_step), 0 when the phase is skipped
};

struct RunConfig {
  std::string teacher;       // GGUF or HF folder
  std::string student;       // start from this student folder; empty: step 0 from the teacher
  std::string arch;          // rad-rwkv6 | rad-rwkv7 (step 0)
  nlohmann::json student_options;  // resolved step-0 options (student_config_json fields)
  std::string data;          // folder from `radlads data prepare`
  std::string out;
  uint64_t seed = 1234;      // step-0 init and data order
  int64_t checkpoint_every = 0;  // optimiser steps; 0: only at the end of each phase
  int heldout_windows = 4, heldout_len = 512;
  std::string eval_tasks;    // benchmark suite at the end ("" skips it)
  int64_t eval_limit = 100;
  // The frozen teacher's linear layers in steps 1 and 2: "f32" or "bf16"
  // (models/teacher.h); `--teacher-gemm auto` resolves to one of them.
  std::string teacher_gemm = "f32";
  // The execution context's thread count the run started with (0 in configs
  // older than it). Reductions follow the thread count, so a resume is bit
  // for bit only with the same count.
  int threads = 0;
  int ranks = 0;  // processes (mpirun -np) the run started with; 0: not recorded (one)
  // Under several ranks: 1 shards AdamW's moments over them (ZeRO-1: a
  // reduce-scatter of the gradients, each rank updates its shard, an
  // all-gather of the weights); 0 keeps a whole copy on every rank (one
  // all-reduce). The same bits either way.
  int zero = 1;
  // Step 1 under several ranks: "data" splits each batch's windows over the
  // ranks; "layers" gives each rank whole layers over the whole batch, so no
  // gradient crosses the network (RAD-RWKV7 adds up layer 0's alone: its
  // value feeds every layer).
  std::string align_parallel = "data";
  std::vector<PhaseConfig> phases;  // align, distill, extend (all three, budgets may be 0)

  // The paper's settings (DESIGN.md "The protocol") for the three phases.
  static std::vector<PhaseConfig> paper_phases();
};

nlohmann::json to_json(const PhaseConfig& p);
PhaseConfig phase_from_json(const nlohmann::json& j);
nlohmann::json to_json(const RunConfig& c);
RunConfig run_config_from_json(const nlohmann::json& j);  // throws Error on a bad field

// Warm-up of DESIGN.md (50 steps) scaled for short runs: at most a tenth of
// the phase, at least 1 step.
int64_t scaled_warmup(int64_t total_steps, int64_t paper_warmup = 50);

}  // namespace radlads
