// The memory plan of a conversion (issue: users found out by crashing): per
// phase, what its parts take — the student's weights, gradients and AdamW
// moments, its training activations (with or without recompute), the frozen
// teacher's weights and forward, the heads' row blocks, the held-out scorer —
// computed from the sizes and options alone, so that `convert --dry-run` reads
// no weights. The activation terms mirror the Workspace takes of the student,
// the mixers (MixerArch::train_floats), the teacher and the objectives;
// tests/train/test_memory_plan.cpp holds them to the Workspaces' own measure.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "models/student_options.h"
#include "models/teacher_config.h"
#include "train/run_config.h"

namespace radlads {

struct ParamCounts {
  int64_t teacher = 0;         // every teacher tensor (a tied head once)
  int64_t teacher_linear = 0;  // its q/k/v/o, MLP and head matrices (the bf16 copies)
  int64_t student = 0;         // every student tensor (its head untied)
  int64_t student_time_mix = 0;  // what step 1 trains: the recurrent layers' self_attn.*
};
ParamCounts param_counts(const TeacherConfig& c, const StudentOptions& o);

// The align objective's Workspace peak (step 1; every recurrent layer aligned).
int64_t align_train_floats(const TeacherConfig& c, const StudentOptions& o, int B, int T);
// The teacher's forward Workspace peak for B windows of T (KV caches apart).
int64_t teacher_forward_floats(const TeacherConfig& c, int B, int T, bool all_logits_rows);

struct MemoryItem {
  std::string what;
  int64_t bytes = 0;
};

struct PhaseMemoryPlan {
  std::string phase;
  bool recompute = false;
  std::vector<MemoryItem> items;
  // While the run loads: the teacher in fp32 (before a stored teacher gives
  // it back) beside the student made from it.
  int64_t load_peak = 0;
  int64_t total() const;
  int64_t peak() const { return std::max(total(), load_peak); }
  std::string table() const;  // one line per item, the total and the load peak, in GB
};

struct MemoryPlanSetup {
  TeacherConfig cfg;
  StudentOptions student;  // ranks resolved
  bool teacher_bf16 = false;  // the teacher's linear layers also held in bf16
  // The teacher held as stored (--teacher-gemm stored): its blocks' bytes and
  // the fp32 bytes they replace (models/stored_weights.h); -1: not held so.
  int64_t teacher_stored_bytes = -1, teacher_freed_bytes = 0;
  int64_t teacher_file_bytes = 0;  // mapped while the teacher loads
  int world = 1;              // processes (data parallel)
  bool zero = true;           // AdamW moments sharded over them
  int heldout_windows = 0, heldout_len = 0;
  int threads = 1;
};

PhaseMemoryPlan plan_phase(const MemoryPlanSetup& s, const PhaseConfig& pc, bool recompute);

// Memory the process may still use: MemAvailable plus what it holds now,
// capped by its cgroup's limit. 0 when unknown.
int64_t memory_budget_bytes();

// "auto": recompute only where the plan without it exceeds budget (the
// gradients are the same bits either way); "on" / "off". Throws Error on
// another value.
bool resolve_recompute(const std::string& mode, const MemoryPlanSetup& s, const PhaseConfig& pc, int64_t budget);

}  // namespace radlads
