#include "train/run_config.h"

#include <algorithm>

#include "core/error.h"

namespace radlads {

using nlohmann::json;

int64_t PhaseConfig::steps() const {
  if (tokens <= 0) return 0;
  return std::max<int64_t>(1, (tokens + tokens_per_step() - 1) / tokens_per_step());
}

int64_t scaled_warmup(int64_t total_steps, int64_t paper_warmup) {
  return std::max<int64_t>(1, std::min(paper_warmup, total_steps / 10));
}

std::vector<PhaseConfig> RunConfig::paper_phases() {
  PhaseConfig a;  // step 1: 100 M tokens, T 512, quarter cosine 1e-3 → 1e-5
  a.name = "align";
  a.tokens = 100'000'000;
  a.lr = {LrSchedule::Cosine, 1e-3, 1e-5, 50, 1};
  PhaseConfig d;  // step 2: 250–700 M tokens, T 512, flat 1e-5, KL
  d.name = "distill";
  d.tokens = 250'000'000;
  d.lr = {LrSchedule::Flat, 1e-5, 1e-5, 50, 1};
  d.kl_weight = 1;
  PhaseConfig e;  // step 3: ~100 M tokens up to T 16384, flat 1e-5, CE
  e.name = "extend";
  e.tokens = 100'000'000;
  e.seq_len = 16384;
  e.batch = 1;
  e.lr = {LrSchedule::Flat, 1e-5, 1e-5, 50, 1};
  e.ce_weight = 1;
  return {a, d, e};
}

json to_json(const PhaseConfig& p) {
  return {{"name", p.name},
          {"tokens", p.tokens},
          {"steps", p.steps()},
          {"seq_len", p.seq_len},
          {"batch", p.batch},
          {"micro_batch", p.micro_batch},
          {"lr_schedule", LrSchedule::kind_name(p.lr.kind)},
          {"lr_start", p.lr.lr_start},
          {"lr_end", p.lr.lr_end},
          {"warmup_steps", p.lr.warmup_steps},
          {"clip", p.clip},
          {"kl_weight", p.kl_weight},
          {"ce_weight", p.ce_weight},
          {"skip_nonfinite", p.skip_nonfinite}};
}

PhaseConfig phase_from_json(const json& j) {
  PhaseConfig p;
  p.name = j.at("name").get<std::string>();
  p.tokens = j.at("tokens").get<int64_t>();
  p.seq_len = j.at("seq_len").get<int>();
  p.batch = j.at("batch").get<int>();
  p.micro_batch = j.at("micro_batch").get<int>();
  // Shapes a step is made of: a zero would divide by zero in steps(), a
  // huge one overflow (a corrupt or hand-edited state.json).
  if (p.seq_len < 1 || p.seq_len > (1 << 24)) fail("phase {}: seq_len {} is out of range", p.name, p.seq_len);
  if (p.batch < 1 || p.batch > (1 << 20)) fail("phase {}: batch {} is out of range", p.name, p.batch);
  if (p.micro_batch < 1) fail("phase {}: micro_batch {} is out of range", p.name, p.micro_batch);
  if (p.tokens < 0 || p.tokens > (int64_t(1) << 50)) fail("phase {}: tokens {} is out of range", p.name, p.tokens);
  p.lr.kind = LrSchedule::kind_from_name(j.at("lr_schedule").get<std::string>());
  p.lr.lr_start = j.at("lr_start").get<double>();
  p.lr.lr_end = j.at("lr_end").get<double>();
  p.lr.warmup_steps = j.at("warmup_steps").get<int64_t>();
  p.lr.total_steps = std::max<int64_t>(1, p.steps());
  p.clip = j.at("clip").get<double>();
  p.kl_weight = j.at("kl_weight").get<double>();
  p.ce_weight = j.at("ce_weight").get<double>();
  p.skip_nonfinite = j.value("skip_nonfinite", 0);  // absent in runs from before the flag
  if (p.skip_nonfinite < 0) fail("phase {}: skip_nonfinite {} is negative", p.name, p.skip_nonfinite);
  return p;
}

json to_json(const RunConfig& c) {
  json phases = json::array();
  for (const auto& p : c.phases) phases.push_back(to_json(p));
  return {{"teacher", c.teacher},
          {"student", c.student},
          {"arch", c.arch},
          {"student_options", c.student_options},
          {"data", c.data},
          {"out", c.out},
          {"seed", c.seed},
          {"checkpoint_every", c.checkpoint_every},
          {"heldout_windows", c.heldout_windows},
          {"heldout_len", c.heldout_len},
          {"eval_tasks", c.eval_tasks},
          {"eval_limit", c.eval_limit},
          {"teacher_gemm", c.teacher_gemm},
          {"threads", c.threads},
          {"ranks", c.ranks},
          {"zero", c.zero},
          {"align_parallel", c.align_parallel},
          {"phases", phases}};
}

RunConfig run_config_from_json(const json& j) {
  try {
    RunConfig c;
    c.teacher = j.at("teacher").get<std::string>();
    c.student = j.at("student").get<std::string>();
    c.arch = j.at("arch").get<std::string>();
    c.student_options = j.at("student_options");
    c.data = j.at("data").get<std::string>();
    c.out = j.at("out").get<std::string>();
    c.seed = j.at("seed").get<uint64_t>();
    c.checkpoint_every = j.at("checkpoint_every").get<int64_t>();
    c.heldout_windows = j.at("heldout_windows").get<int>();
    c.heldout_len = j.at("heldout_len").get<int>();
    c.eval_tasks = j.at("eval_tasks").get<std::string>();
    c.eval_limit = j.at("eval_limit").get<int64_t>();
    // Runs saved before the field existed trained with an fp32 teacher.
    c.teacher_gemm = j.value("teacher_gemm", std::string("f32"));
    c.threads = j.value("threads", 0);
    c.ranks = j.value("ranks", 0);
    c.zero = j.value("zero", 1);
    c.align_parallel = j.value("align_parallel", std::string("data"));
    if (c.zero != 0 && c.zero != 1) fail("run config: zero {} (0 or 1)", c.zero);
    if (c.align_parallel != "data" && c.align_parallel != "layers")
      fail("run config: align_parallel '{}' (data, layers)", c.align_parallel);
    if (c.teacher_gemm != "f32" && c.teacher_gemm != "bf16") fail("run config: teacher_gemm '{}' (f32, bf16)", c.teacher_gemm);
    for (const auto& p : j.at("phases")) c.phases.push_back(phase_from_json(p));
    return c;
  } catch (const json::exception& e) {
    fail("run config: {}", e.what());
  }
}

}  // namespace radlads
