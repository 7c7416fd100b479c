// The optimisation loop of one phase: for each step, B windows from the
// deterministic sampler (window index = step·batch + k, so a resumed run
// sees exactly the data it would have seen), gradient accumulation over
// micro-batches, global grad-norm clip, the LR schedule and one AdamW update.
// Everything a step depends on is a function of (seed, step, weights,
// optimiser state): killing and resuming reproduces the same weights.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/context.h"
#include "train/adamw.h"
#include "train/objective.h"
#include "train/param_set.h"
#include "train/run_config.h"

namespace radlads {

class WindowSampler;

struct StepReport {
  int64_t step = 0;          // 1-based: steps completed in the phase
  int64_t total_steps = 0;
  int64_t tokens = 0;        // tokens consumed in the phase so far
  double loss = 0;           // mean over the step's rows
  double lr = 0, grad_norm = 0;
  double seconds = 0;        // this step's wall time
  std::vector<double> layer_loss;  // alignment: per-layer means (NaN for layers not aligned)
  bool skipped = false;      // non-finite loss or gradient: no update (PhaseConfig::skip_nonfinite)
};

// How the ranks of ctx share a step (one process: any of them is the plain loop).
struct StepSharing {
  // Data parallel: rank r reads the r-th B/N windows of each step. false:
  // every rank reads the whole batch (layer-parallel alignment, where ranks
  // split the layers instead).
  bool split_batch = true;
  enum class Grads {
    AllReduce,      // every rank gets the whole summed gradient (replicated AdamW)
    ReduceScatter,  // ZeRO-1: each rank gets its shard's sum (the ParamSet is sharded)
    Own,            // layer-parallel: each rank computed its range whole; only `coupled` is summed
  } grads = Grads::AllReduce;
  int64_t coupled_begin = 0, coupled_end = 0;  // Own: a flat range every rank adds to (RWKV7's layer 0)
};

// Under N ranks each takes B/N windows of a step: throws Error naming the
// phase and the flag to change when B is not a multiple of N.
void check_batch_splits(const PhaseConfig& pc, int world);

// Runs steps start_step .. pc.steps()-1; after_step is called after each
// (logging, progress, checkpoints). Rank r of N reads the r-th contiguous
// B/N windows of each step's global batch; the gradients and loss sums go
// through ctx's all-reduce (rank order) before the norm, clip and update, so
// every rank applies the same update (one process: the all-reduce is a no-op).
// With a sharded ParamSet each rank updates its range and the weights are
// all-gathered after the update (sharing says how the gradients meet).
void train_phase(const ExecContext& ctx, const PhaseConfig& pc, Objective& obj, ParamSet& params, AdamW& opt,
                 const WindowSampler& sampler, int64_t start_step,
                 const std::function<void(const StepReport&)>& after_step, const StepSharing& sharing = {});

}  // namespace radlads
