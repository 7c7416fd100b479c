#include "train/memory_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "core/error.h"
#include "core/sysinfo.h"
#include "models/mixers/mixer_arch.h"
#include "models/student.h"
#include "models/student_weights.h"
#include "train/objective.h"

namespace radlads {

namespace {

constexpr int64_t kF = int64_t(sizeof(float));

// The WKV backward kernels' per-thread chunk states (outside the Workspace):
// one N×N state per 16-token chunk, twice over (states and their gradients).
int64_t wkv_thread_scratch(const TeacherConfig& c, int T, int threads) {
  return int64_t(threads) * (T / 16 + 2) * int64_t(c.head_dim) * c.head_dim * kF * 2;
}

}  // namespace

ParamCounts param_counts(const TeacherConfig& c, const StudentOptions& o) {
  const int64_t C = c.n_embd, V = c.n_vocab, F = c.n_ff;
  const int64_t QD = int64_t(c.n_head) * c.head_dim, KD = int64_t(c.n_head_kv) * c.head_dim;
  const int64_t attn = C * QD + 2 * C * KD + QD * C + (c.attn_bias ? QD + 2 * KD : 0);
  const int64_t layer = 2 * C + attn + 3 * C * F;
  ParamCounts p;
  p.teacher_linear = c.n_layer * (attn - (c.attn_bias ? QD + 2 * KD : 0) + 3 * C * F) + V * C;
  p.teacher = V * C + (c.tie_embeddings ? 0 : V * C) + C + c.n_layer * layer;
  if (!o.is_student()) return p;
  int64_t added = 0;
  for (const StudentTensorSpec& s : student_new_tensors(c, o)) added += numel(s.shape);
  p.student = 2 * V * C + C + c.n_layer * layer + added;  // step 0 unties a tied head
  int recurrent = 0;
  for (int l = 0; l < c.n_layer; l++) recurrent += o.softmax_layer(l, c.n_layer) ? 0 : 1;
  p.student_time_mix = recurrent * attn + added;
  return p;
}

int64_t align_train_floats(const TeacherConfig& c, const StudentOptions& o, int B, int T) {
  const int64_t M = int64_t(B) * T, C = c.n_embd, A = int64_t(c.n_head) * c.head_dim;
  const bool vr = mixer_arch(o.arch).value_residual;
  int64_t kept = (C + (vr ? A : 0)) * M, peak = 0;  // ys, v_first
  for (int l = 0; l < c.n_layer; l++) {
    if (o.softmax_layer(l, c.n_layer)) continue;
    const MixerTrainFloats m = layer_train_floats(c, o, l);
    kept += (m.forward + C) * M;  // the mixer's, d_y
    peak = std::max(peak, m.backward * M);
  }
  return kept + (C + (vr ? A : 0)) * M + peak;  // d_xn, d_v_first, one layer's backward
}

int64_t teacher_forward_floats(const TeacherConfig& c, int B, int T, bool all_logits_rows) {
  const int64_t M = int64_t(B) * T, C = c.n_embd, F = c.n_ff;
  const int64_t QD = int64_t(c.n_head) * c.head_dim, KD = int64_t(c.n_head_kv) * c.head_dim;
  // x xn y; one layer: q att k v, the MLP's rstd xn y gate up act; the head's normed rows
  const int64_t layer = (2 * QD + 2 * KD + 1 + 2 * C + 3 * F) * M;
  return 3 * C * M + std::max(layer, all_logits_rows ? C * M : 0);
}

int64_t PhaseMemoryPlan::total() const {
  int64_t t = 0;
  for (const MemoryItem& i : items) t += i.bytes;
  return t;
}

std::string PhaseMemoryPlan::table() const {
  std::string s;
  for (const MemoryItem& i : items) s += fmt::format("  {:<52} {:8.2f} GB\n", i.what, double(i.bytes) / 1e9);
  s += fmt::format("  {:<52} {:8.2f} GB\n", "total", double(total()) / 1e9);
  s += fmt::format("  {:<52} {:8.2f} GB\n", "(while loading: teacher file, teacher fp32, student)", double(load_peak) / 1e9);
  return s;
}

PhaseMemoryPlan plan_phase(const MemoryPlanSetup& s, const PhaseConfig& pc, bool recompute) {
  const TeacherConfig& c = s.cfg;
  const ParamCounts p = param_counts(c, s.student);
  const bool align = pc.name == "align";
  const int B = std::min(pc.micro_batch, std::max(1, pc.batch / std::max(1, s.world))), T = pc.seq_len;
  const int64_t M = int64_t(B) * T, V = c.n_vocab, KD = int64_t(c.n_head_kv) * c.head_dim;
  const int64_t trained = align ? p.student_time_mix : p.student;
  PhaseMemoryPlan plan;
  plan.phase = pc.name;
  plan.recompute = recompute && !align;
  auto add = [&](std::string what, int64_t bytes) { plan.items.push_back({std::move(what), bytes}); };
  add("process (code, libraries, thread stacks)", int64_t(200) << 20);
  add("student weights (f32)", p.student * kF);
  add(fmt::format("gradients (f32, {} trained)", align ? "time-mix" : "every tensor"), trained * kF);
  const int shards = s.zero ? std::max(1, s.world) : 1;
  add(shards > 1 ? fmt::format("AdamW moments (1/{} shard)", shards) : "AdamW moments", 2 * trained * kF / shards);
  if (s.teacher_stored_bytes >= 0)
    add("teacher weights (as stored in its file)", p.teacher * kF - s.teacher_freed_bytes + s.teacher_stored_bytes);
  else
    add("teacher weights (f32)", p.teacher * kF);
  plan.load_peak = plan.items[0].bytes + (p.teacher + p.student) * kF + std::max<int64_t>(0, s.teacher_stored_bytes) +
                   s.teacher_file_bytes;
  const bool teacher_runs = align || pc.kl_weight > 0;
  if (s.teacher_bf16 && teacher_runs) add("teacher linear layers (bf16 copies)", p.teacher_linear * 2);
  if (align) {
    add(fmt::format("alignment activations ({} x {} tokens)", B, T), align_train_floats(c, s.student, B, T) * kF);
  } else {
    add(fmt::format("student activations ({} x {} tokens{})", B, T, plan.recompute ? ", recompute" : ""),
        Student::train_workspace_floats(c, s.student, B, T, plan.recompute) * kF);
    const int64_t R = std::min(M, distill_head_rows(V));
    const int blocks = 1 + (pc.kl_weight > 0 ? 1 : 0) + (pc.kl_weight > 0 && pc.ce_weight > 0 ? 1 : 0);
    add(fmt::format("head and loss row blocks ({} rows)", R), R * V * blocks * kF);
  }
  if (teacher_runs) {
    add("teacher forward activations", teacher_forward_floats(c, B, T, false) * kF + (align ? 0 : M * c.n_embd * kF));
    add("teacher KV caches", int64_t(B) * c.n_layer * T * 2 * KD * kF);
  }
  add("WKV backward chunk states (per thread)", wkv_thread_scratch(c, T, s.threads));
  // A checkpoint gathers one trained tensor's moments at a time: the largest
  // is the embedding (steps 2-3), or an attention projection (step 1).
  const int64_t QD = int64_t(c.n_head) * c.head_dim;
  add("checkpoint writer (one tensor's moments)", (align ? c.n_embd * QD : std::max(V, int64_t(c.n_ff)) * c.n_embd) * kF);
  if (s.heldout_windows > 0) {  // the teacher's held-out logits, one student window's
    const int64_t L = s.heldout_len;
    add("held-out scorer (teacher logits kept)",
        (int64_t(s.heldout_windows) + 1) * L * V * kF + teacher_forward_floats(c, 1, int(L), true) * kF);
  }
  return plan;
}

int64_t memory_budget_bytes() {
  int64_t avail = 0;
  std::ifstream mi("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (mi >> key >> kb >> unit)
    if (key == "MemAvailable:") avail = kb * 1024;
  if (avail == 0) return 0;
  int64_t budget = avail + int64_t(rss_bytes());
  std::ifstream cg("/sys/fs/cgroup/memory.max");
  std::string lim;
  if (cg >> lim && lim != "max") budget = std::min<int64_t>(budget, std::stoll(lim));
  return budget;
}

bool resolve_recompute(const std::string& mode, const MemoryPlanSetup& s, const PhaseConfig& pc, int64_t budget) {
  if (mode == "on") return true;
  if (mode == "off") return false;
  if (mode != "auto") fail("--recompute must be auto, on or off, not '{}'", mode);
  if (budget <= 0) return pc.seq_len > 2048;  // unknown memory: recompute the long windows
  return plan_phase(s, pc, false).peak() > budget;
}

}  // namespace radlads
