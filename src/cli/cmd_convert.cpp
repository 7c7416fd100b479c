// radlads convert / align / distill / extend: the RADLADS protocol. convert
// runs steps 0 → 1 → 2 → 3 and the teacher-vs-student comparison; each
// single-step command is the same resumable run with one step's budget (and
// step 0 first unless --student names a student to start from).
#include <fmt/format.h>

#include <filesystem>

#include "cli/command.h"
#include "cli/student_flags.h"
#include "core/error.h"
#include "eval/eval_suite.h"
#include "models/model.h"
#include "models/teacher.h"
#include "train/convert.h"
#include "io/json_file.h"

namespace radlads::cli {

namespace {

// What every training command shares.
struct CommonFlags {
  std::string teacher, student, data, out, eval_tasks, teacher_gemm = "auto", align_parallel = "data";
  int zero = 1;
  StudentFlags arch;
  uint64_t seed = 1234;
  int64_t checkpoint_every = 0, eval_limit = 100;
  int heldout_windows = 4, heldout_len = 512, skip_nonfinite = 0;
  bool resume = false, json = false;
  RunControls controls;

  void add_to(CLI::App& app, bool allow_student) {
    app.add_option("--teacher", teacher, "Teacher GGUF file or HF folder");
    app.add_option("--data", data, "Data folder from `radlads data prepare` (train.* and heldout.*)");
    app.add_option("--out", out, "Run folder (checkpoints, metrics.jsonl, student/)")->required();
    if (allow_student) app.add_option("--student", student, "Start from this student folder instead of step 0");
    arch.add_to(app, false);
    app.add_option("--seed", seed, "Seed of the step-0 init and of the data order")->capture_default_str();
    app.add_option("--checkpoint-every", checkpoint_every, "Also checkpoint every N optimiser steps (0: at each step's end)")
        ->capture_default_str();
    app.add_option("--heldout-windows", heldout_windows, "Held-out windows scored after each step")->capture_default_str();
    app.add_option("--heldout-len", heldout_len, "Tokens per held-out window")->capture_default_str();
    app.add_option("--eval-tasks", eval_tasks, "Benchmarks at the end, e.g. lambada,hellaswag:50 (empty: none)");
    app.add_option("--eval-limit", eval_limit, "Items per benchmark task")->capture_default_str();
    app.add_option("--teacher-gemm", teacher_gemm,
                   "Frozen teacher's linear layers: auto (bf16 where the CPU has AVX512-BF16/AMX), f32, bf16, or "
                   "stored (kept as its file stores them, dequantized block by block: memory about the file's size)")
        ->capture_default_str();
    app.add_option("--zero", zero,
                   "Under mpirun: 1 shards AdamW's moments over the ranks (ZeRO-1), 0 keeps a copy on each")
        ->check(CLI::IsMember({0, 1}))
        ->capture_default_str();
    app.add_option("--align-parallel", align_parallel,
                   "Step 1 under mpirun: data (split the windows) or layers (each rank trains whole layers)")
        ->check(CLI::IsMember({"data", "layers"}))
        ->capture_default_str();
    app.add_option("--recompute", controls.recompute,
                   "Steps 2-3 keep only each layer's input and rerun the layer in the backward: auto (where the "
                   "memory plan needs it), on, off; the same gradients either way")
        ->check(CLI::IsMember({"auto", "on", "off"}))
        ->capture_default_str();
    app.add_flag("--dry-run", controls.dry_run, "Print the memory plan of every step and stop");
    app.add_option("--memory-budget", controls.memory_budget_gb,
                   "GB this process may use (default: the memory available now, shared by this host's ranks)")
        ->check(CLI::PositiveNumber);
    app.add_flag("--ignore-memory-plan", controls.ignore_memory_plan,
                 "Run even where the memory plan exceeds the memory this process may use");
    app.add_option("--skip-nonfinite", skip_nonfinite,
                   "Skip up to N steps in a row whose loss or gradient is NaN/Inf (no update) before stopping "
                   "(default 0: stop at the first, naming the step)")
        ->check(CLI::NonNegativeNumber);
    app.add_flag("--resume", resume, "Continue --out from its latest checkpoint (its saved config wins)");
    app.add_flag("--json", json, kJsonHelp);
  }

  RunConfig base(const Backend& be) const {
    RunConfig c;
    c.out = out;
    if (resume) return c;  // the checkpoint's config is used
    if (teacher.empty()) fail("--teacher is required");
    if (data.empty()) fail("--data is required");
    if (student.empty() && arch.arch.empty()) fail("--arch is required (or --student to start from a student)");
    c.teacher = teacher;
    c.student = student;
    c.arch = arch.arch;
    c.data = data;
    c.seed = seed;
    c.checkpoint_every = checkpoint_every;
    c.heldout_windows = heldout_windows;
    c.heldout_len = heldout_len;
    c.eval_tasks = eval_tasks;
    c.eval_limit = eval_limit;
    c.teacher_gemm = teacher_gemm_name(teacher_gemm_from_name(teacher_gemm, be));
    c.zero = zero;
    c.align_parallel = align_parallel;
    if (student.empty()) {
      // The options resolve against the teacher's sizes: its config alone, no weights.
      const TeacherConfig tc = load_model_config(teacher);
      c.student_options = student_config_json(tc, arch.resolve(tc));
    }
    c.phases = RunConfig::paper_phases();
    for (PhaseConfig& p : c.phases) p.skip_nonfinite = skip_nonfinite;
    return c;
  }
};

// Flags of one phase; negative / empty = the paper's value.
struct PhaseFlags {
  int64_t tokens = -1;
  int seq_len = -1, batch = -1, micro_batch = -1;
  double lr = -1, lr_end = -1, kl = -1;
  int64_t warmup = -1;

  void apply(PhaseConfig& p) const {
    if (tokens >= 0) p.tokens = tokens;
    if (seq_len > 0) p.seq_len = seq_len;
    if (batch > 0) p.batch = batch;
    if (micro_batch > 0) p.micro_batch = micro_batch;
    if (lr > 0) {
      p.lr.lr_start = lr;
      if (p.lr.kind == LrSchedule::Flat) p.lr.lr_end = lr;
    }
    if (lr_end > 0) p.lr.lr_end = lr_end;
    if (kl >= 0) {  // step 3's mix: kl·KL + (1 − kl)·CE
      p.kl_weight = kl;
      p.ce_weight = 1 - kl;
    }
    p.micro_batch = std::min(p.micro_batch, p.batch);
    p.lr.total_steps = std::max<int64_t>(1, p.steps());
    p.lr.warmup_steps = warmup >= 0 ? warmup : scaled_warmup(p.steps());
  }
};

// The held-out table, then the benchmark comparison of the run's eval tasks
// (student and teacher), added to OUT/results.json.
int finish(const ExecContext& ctx, nlohmann::json results, const std::string& out_dir, bool json) {
  if (ctx.rank() != 0) return 0;  // rank 0 reports and evaluates; the others are done
  if (results.value("dry_run", false)) {  // the plan went to stderr
    if (json) print_json(results);
    return 0;
  }
  std::FILE* out = human_out(json);
  fmt::print(out, "\n{}", heldout_table(results));
  const std::string tasks_spec = results.value("eval_tasks", "");
  if (!tasks_spec.empty()) {
    const int64_t limit = results.value("eval_limit", int64_t{100});
    std::vector<EvalTask> tasks = load_eval_tasks(tasks_spec, default_eval_data_dir(), limit, 0);
    ModelResults s = evaluate_model(ctx.be(), results.at("student").get<std::string>(), tasks, false);
    ModelResults t = evaluate_model(ctx.be(), results.at("teacher").get<std::string>(), tasks, false);
    fmt::print(out, "\n{}", eval_markdown(tasks, s, &t));
    results["benchmarks"] = eval_json(tasks, s, &t, {{"limit", limit}});
    write_json_atomic((std::filesystem::path(out_dir) / "results.json").string(), results);
  }
  if (json) print_json(results);
  return 0;
}

}  // namespace

static CommandRegistration reg("convert", "RADLADS steps 0-3 and the teacher-vs-student comparison", [](CLI::App& app) {
  struct Opts {
    CommonFlags common;
    PhaseFlags step[3];
    int seq_len = -1, batch = -1, micro_batch = -1;
    double lr = -1;
  };
  auto o = std::make_shared<Opts>();
  o->common.add_to(app, false);
  const char* names[3] = {"step1", "step2", "step3"};
  for (int i = 0; i < 3; i++) {
    PhaseFlags& f = o->step[i];
    const std::string n = names[i];
    app.add_option("--" + n + "-tokens", f.tokens, n + " token budget (0 skips it; default: the paper's)");
    app.add_option("--" + n + "-lr", f.lr, n + " learning rate (step 1: the cosine's start)");
    app.add_option("--" + n + "-warmup", f.warmup, n + " warm-up steps (default: min(50, steps/10))");
  }
  app.add_option("--step1-lr-end", o->step[0].lr_end, "step1 cosine's final learning rate (default 1e-5)");
  app.add_option("--step3-seq-len", o->step[2].seq_len, "step3 context length (default 16384)");
  app.add_option("--step3-kl", o->step[2].kl, "step3 loss: kl·KL + (1-kl)·CE (default 0: CE only)");
  app.add_option("--step3-batch", o->step[2].batch,
                 "step3 windows per optimiser step (default 1; a multiple of the process count under mpirun)");
  app.add_option("--seq-len", o->seq_len, "Context length of steps 1 and 2 (default 512)");
  app.add_option("--batch", o->batch, "Windows per optimiser step, steps 1 and 2 (default 8)");
  app.add_option("--micro-batch", o->micro_batch, "Windows per forward/backward (default 1)");
  app.add_option("--lr", o->lr, "Learning rate of every step (the --stepN-lr flags win)");
  return [o](const ExecContext& ctx) {
    RunConfig c = o->common.base(ctx.be());
    if (!o->common.resume) {
      for (int i = 0; i < 3; i++) {
        PhaseFlags f = o->step[i];
        if (f.lr < 0) f.lr = o->lr;
        if (i < 2 && f.seq_len < 0) f.seq_len = o->seq_len;
        if (i < 2) f.batch = o->batch;
        f.micro_batch = o->micro_batch;
        f.apply(c.phases[size_t(i)]);
      }
    }
    return finish(ctx, run_convert(ctx, c, o->common.resume, o->common.controls), c.out, o->common.json);
  };
});

// align / distill / extend: one step of the protocol.
static void single_step(const char* name, const char* help, int index) {
  CommandRegistration(name, help, [index](CLI::App& app) {
    struct Opts {
      CommonFlags common;
      PhaseFlags phase;
    };
    auto o = std::make_shared<Opts>();
    o->common.add_to(app, true);
    app.add_option("--tokens", o->phase.tokens, "Token budget (default: the paper's)");
    app.add_option("--seq-len", o->phase.seq_len, "Context length");
    app.add_option("--batch", o->phase.batch, "Windows per optimiser step");
    app.add_option("--micro-batch", o->phase.micro_batch, "Windows per forward/backward");
    app.add_option("--lr", o->phase.lr, "Learning rate (align: the cosine's start)");
    app.add_option("--warmup", o->phase.warmup, "Warm-up steps (default: min(50, steps/10))");
    if (index == 0) app.add_option("--lr-end", o->phase.lr_end, "The cosine's final learning rate");
    if (index == 2) app.add_option("--kl", o->phase.kl, "Loss kl·KL + (1-kl)·CE (default 0: CE only)");
    return CommandRun([o, index](const ExecContext& ctx) {
      RunConfig c = o->common.base(ctx.be());
      if (!o->common.resume)
        for (int i = 0; i < 3; i++) {
          if (i == index) o->phase.apply(c.phases[size_t(i)]);
          else c.phases[size_t(i)].tokens = 0;
        }
      return finish(ctx, run_convert(ctx, c, o->common.resume, o->common.controls), c.out, o->common.json);
    });
  });
}

static const bool registered = [] {
  single_step("align", "RADLADS step 1: attention hidden-state alignment", 0);
  single_step("distill", "RADLADS step 2: knowledge distillation (KL to the teacher)", 1);
  single_step("extend", "RADLADS step 3: context extension (cross-entropy at long context)", 2);
  return true;
}();

}  // namespace radlads::cli
