// How one phase's work is split over the ranks of an MPI run (issue: scale
// out): plain data parallel (a copy of AdamW per rank), ZeRO-1 (AdamW's
// moments sharded), or for step 1 layer-parallel alignment (each rank trains
// whole layers over the whole batch). One process: nothing is split.
#pragma once

#include <string>
#include <vector>

#include "engine/context.h"
#include "models/model.h"
#include "train/param_set.h"
#include "train/trainer.h"

namespace radlads {

struct PhaseSharing {
  StepSharing step;                // for train_phase
  std::vector<bool> owned_layers;  // layer-parallel: this rank's layers (empty: all)
  std::string summary;             // one line for the log
};

// Shards params where the mode asks (before its AdamW is built) and says how
// the steps share their work. zero: RunConfig::zero; layers: step 1 with
// --align-parallel layers.
PhaseSharing plan_sharing(const ExecContext& ctx, const Model& student, ParamSet& params, bool zero, bool layers);

// The layer of a parameter name ("model.layers.<l>. …"), or -1.
int layer_of(const std::string& name);

}  // namespace radlads
