// Training checkpoints: everything needed to continue a run exactly where it
// stopped. A checkpoint is a folder CKPTS/<phase>-<step>/ holding
//   model/                  the student as an HF folder (loadable by every command)
//   optimizer.safetensors   AdamW's moments m.<name>, v.<name>
//   state.json              phase, step, tokens, AdamW's t, the run's config,
//                           and a CRC-32 of each file above
// built in a temporary sibling, fsynced and renamed into place; then
// CKPTS/latest (one line: the folder's name) is replaced atomically. A crash
// at any point leaves the previous checkpoint intact and `latest` valid.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "engine/comm.h"
#include "models/model.h"
#include "train/adamw.h"
#include "train/param_set.h"

namespace radlads {

struct TrainState {
  std::string phase;      // "align" | "distill" | "extend"
  int64_t step = 0;       // optimiser steps completed in this phase
  int64_t total_steps = 0;
  int64_t tokens = 0;     // tokens consumed in this phase
  nlohmann::json config;  // the resolved run config
};

// Writes a checkpoint of the student, the optimiser and the state; keeps the
// newest `keep` checkpoints and removes older ones. Every rank calls it:
// rank 0 writes (the weights must be whole on it), the others send it their
// optimiser shards when the parameter set is sharded (ZeRO-1), so the file
// is the same for any rank count. Returns the folder (rank 0; "" elsewhere).
std::string save_checkpoint(Comm& comm, const std::string& ckpt_dir, const Model& student, const ParamSet& params,
                            const AdamW& opt, const TrainState& st, int keep = 2);

// The folder `latest` names, or nullopt when there is no checkpoint yet.
// Throws Error (naming the file) when `latest` is unreadable or names nothing.
std::optional<std::string> latest_checkpoint(const std::string& ckpt_dir);

// Reads state.json and checks the checksums; throws Error naming the file on
// any corruption.
TrainState read_checkpoint_state(const std::string& ckpt);

// Loads the optimiser moments of a checkpoint into opt (built for params):
// this rank's range of them when sharded. Throws Error when names, shapes or
// dtypes differ.
void load_optimizer_state(const std::string& ckpt, const ParamSet& params, AdamW& opt);

}  // namespace radlads
