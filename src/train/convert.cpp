#include "train/convert.h"

#include <fmt/format.h>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "core/sysinfo.h"
#include "data/binidx.h"
#include "data/windows.h"
#include "models/hf_folder.h"
#include "models/stored_weights.h"
#include "models/student_weights.h"
#include "train/checkpoint.h"
#include "models/device_model.h"
#include "train/heldout_eval.h"
#include "train/memory_plan.h"
#include "train/metrics_log.h"
#include "train/objective.h"
#include "train/progress.h"
#include "train/sharding.h"
#include "train/stop_signals.h"
#include "train/trainer.h"
#include "io/json_file.h"

namespace radlads {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string join(const std::string& a, const std::string& b) { return (fs::path(a) / b).string(); }

json eval_record(const std::string& of, const HeldoutScores& s) {
  return {{"phase", "eval"},       {"of", of},
          {"heldout_tokens", s.tokens}, {"heldout_kl", s.kl},
          {"heldout_ppl", s.student_ppl()}, {"teacher_ppl", s.teacher_ppl()},
          {"time_s", s.seconds}};
}

void print_eval(const std::string& of, const HeldoutScores& s) {
  fmt::print(stderr, "held-out after {}: student ppl {:.3f}, teacher ppl {:.3f}, KL {:.4f} ({} tokens, {:.1f} s)\n", of,
             s.student_ppl(), s.teacher_ppl(), s.kl, s.tokens, s.seconds);
}

std::vector<std::vector<int32_t>> heldout_windows(const RunConfig& c) {
  TokenDataset d = TokenDataset::open(join(c.data, "heldout"));
  HeldoutWindows hw(d, c.heldout_len, c.heldout_windows);
  std::vector<std::vector<int32_t>> out;
  for (int64_t i = 0; i < hw.n_windows(); i++) {
    std::vector<int32_t> w(size_t(c.heldout_len));
    hw.window(i, w.data());
    out.push_back(std::move(w));
  }
  return out;
}

// Step 0, or the student a single-step command starts from.
Model initial_student(const RunConfig& c, const Model& teacher) {
  if (!c.student.empty()) return open_model(c.student);
  StudentOptions o = student_options_from_json(c.student_options, c.out + "/config.json");
  o.arch = student_arch_from_name(c.arch);
  return init_student(teacher, o, c.seed);
}

void check_compatible(const Model& teacher, const Model& student) {
  if (teacher.cfg.n_vocab != student.cfg.n_vocab || teacher.cfg.n_embd != student.cfg.n_embd ||
      teacher.cfg.n_layer != student.cfg.n_layer)
    fail("{}: this student was not made from the teacher {} (sizes differ)", student.path, teacher.path);
}

int phase_index(const RunConfig& c, const std::string& name) {
  for (size_t i = 0; i < c.phases.size(); i++)
    if (c.phases[i].name == name) return int(i);
  fail("checkpoint names an unknown phase '{}'", name);
}

// The plan's inputs from the configs alone (no weights): the teacher's sizes
// and the student's options (the run's resolved step-0 options, or the
// config.json of the student it starts or resumes from).
MemoryPlanSetup memory_setup(const ExecContext& ctx, const RunConfig& c, const std::string& student_dir) {
  MemoryPlanSetup s;
  s.cfg = load_model_config(c.teacher);
  if (!student_dir.empty()) {
    const std::string p = join(student_dir, "config.json");
    if (!fs::is_regular_file(p)) fail("{}: the memory plan needs the student's config.json (an HF folder)", student_dir);
    s.student = student_options_from_json(read_json_file(p), p);
  } else {
    s.student = student_options_from_json(c.student_options, c.out + "/config.json");
    s.student.arch = student_arch_from_name(c.arch);
  }
  s.teacher_bf16 = c.teacher_gemm == "bf16";
  std::error_code ec;
  if (fs::is_regular_file(c.teacher, ec)) s.teacher_file_bytes = int64_t(fs::file_size(c.teacher, ec));
  if (c.teacher_gemm == "stored") {
    size_t freed = 0;
    s.teacher_stored_bytes = int64_t(stored_teacher_bytes(c.teacher, &freed));
    s.teacher_freed_bytes = int64_t(freed);
  }
  s.world = ctx.world();
  s.zero = c.zero != 0;
  s.heldout_windows = c.heldout_windows;
  s.heldout_len = c.heldout_len;
  s.threads = ctx.threads;
  return s;
}

// The memory each process may use: the machine's share of this host's ranks.
int64_t process_budget() {
  int64_t b = memory_budget_bytes();
  if (const char* n = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE")) b /= std::max(1, std::atoi(n));
  return b;
}

}  // namespace

std::string heldout_table(const json& results) {
  const json& evals = results.at("heldout");
  std::string s = "| model | held-out ppl | KL(teacher‖student) |\n|---|---|---|\n";
  if (!evals.empty()) s += fmt::format("| teacher | {:.3f} | 0 |\n", evals.front().at("teacher_ppl").get<double>());
  for (const json& e : evals)
    s += fmt::format("| student after {} | {:.3f} | {:.4f} |\n", e.at("of").get<std::string>(),
                     e.at("heldout_ppl").get<double>(), e.at("heldout_kl").get<double>());
  return s;
}

json run_convert(const ExecContext& ctx, RunConfig cfg, bool resume, const RunControls& rc) {
  // Under mpirun every rank trains its share of each batch; rank 0 alone
  // writes (run folder, metrics, progress, checkpoints, evaluations, the
  // final student) and the others wait for it where they must.
  const bool lead = ctx.rank() == 0;
  const std::string resume_cmd =
      (ctx.world() > 1 ? fmt::format("mpirun -np {} ", ctx.world()) : std::string()) + "radlads convert --out " +
      cfg.out + " --resume";
  const std::string out = cfg.out, ckdir = join(out, "checkpoints"), log_path = join(out, "metrics.jsonl");
  std::error_code ec;
  std::optional<TrainState> ck;
  std::string ck_dir;
  bool restart = false;  // --resume of a run killed before its first checkpoint
  std::optional<std::string> latest;
  if (resume) latest = latest_checkpoint(ckdir);
  if (resume && !latest) {
    // Killed before its first checkpoint: start the run it saved again from
    // step 0 (its config.json, written once every input had loaded, wins over
    // the command line as a checkpoint's would).
    const std::string cp = join(out, "config.json");
    if (!fs::exists(cp, ec)) fail("{}: nothing to resume (no config.json, no checkpoint); run without --resume", out);
    cfg = run_config_from_json(read_json_file(cp));
    cfg.out = out;
    resume = false;
    restart = true;
    if (lead) {
      fs::remove_all(ckdir, ec);  // at most a half-written first checkpoint
      fmt::print(stderr, "radlads convert: {} has no checkpoint yet: starting its run again from step 0\n", out);
    }
  }
  if (resume) {
    ck_dir = *latest;
    ck = read_checkpoint_state(ck_dir);
    cfg = run_config_from_json(ck->config);
    cfg.out = out;
    const int ranks = std::max(cfg.ranks, 1);
    if (lead && ranks != ctx.world())
      fmt::print(stderr,
                 "radlads convert: warning: the run started with {} processes and resumes with {}; every step still "
                 "reads the same windows, but gradients are summed in another order, so the result will differ in "
                 "the last bits from an uninterrupted run (resume with mpirun -np {} for the same bits)\n",
                 ranks, ctx.world(), ranks);
    if (lead && cfg.threads > 0 && cfg.threads != ctx.threads)
      fmt::print(stderr,
                 "radlads convert: warning: the run started with {} threads and resumes with {}; the result will "
                 "differ in the last bits from an uninterrupted run (pass --threads {} for the same bits)\n",
                 cfg.threads, ctx.threads, cfg.threads);
  } else {
    // A new run, or one started again from step 0, records the threads and processes it runs with.
    cfg.threads = ctx.threads;
    cfg.ranks = ctx.world();
    if (!restart && fs::exists(out, ec) && !fs::is_empty(out, ec))
      fail("{}: already exists; pass --resume to continue it, or choose a new folder", out);
  }
  for (const PhaseConfig& pc : cfg.phases)  // before anything is written (train_phase checks it too)
    if (pc.steps() > 0 && !(pc.name == "align" && cfg.align_parallel == "layers")) check_batch_splits(pc, ctx.world());
  const json cfg_json = to_json(cfg);
  if (lead)
    fmt::print(stderr, "radlads convert, {} process{} x {} threads, resolved config:\n{}\n", ctx.world(),
               ctx.world() > 1 ? "es" : "", ctx.threads, cfg_json.dump(2));
  // The memory plan of every phase still to run, before any weight is read.
  const int first = resume ? phase_index(cfg, ck->phase) : 0;
  const MemoryPlanSetup setup = memory_setup(ctx, cfg, resume ? join(ck_dir, "model") : cfg.student);
  const int64_t budget = rc.memory_budget_gb > 0 ? int64_t(rc.memory_budget_gb * 1e9) : process_budget();
  std::vector<PhaseMemoryPlan> plan_of(cfg.phases.size());  // of the phases still to run
  json plans = json::array();
  std::string over;
  for (int pi = first; pi < int(cfg.phases.size()); pi++) {
    const PhaseConfig& pc = cfg.phases[size_t(pi)];
    if (pc.steps() == 0) continue;
    const PhaseMemoryPlan& plan = plan_of[size_t(pi)] =
        plan_phase(setup, pc, resolve_recompute(rc.recompute, setup, pc, budget));
    if (lead) fmt::print(stderr, "memory plan of {} (per process):\n{}", pc.name, plan.table());
    json items = json::array();
    for (const MemoryItem& i : plan.items) items.push_back({{"what", i.what}, {"bytes", i.bytes}});
    plans.push_back({{"phase", pc.name},
                     {"recompute", plan.recompute},
                     {"total_bytes", plan.total()},
                     {"load_peak_bytes", plan.load_peak},
                     {"items", items}});
    if (budget > 0 && plan.peak() > budget && over.empty())
      over = fmt::format("{} needs {:.2f} GB by the memory plan, and this process may use {:.2f} GB", pc.name,
                         double(plan.peak()) / 1e9, double(budget) / 1e9);
  }
  if (lead && budget > 0) fmt::print(stderr, "memory budget: {:.2f} GB per process\n", double(budget) / 1e9);
  if (rc.dry_run) return json{{"dry_run", true}, {"memory_budget_bytes", budget}, {"memory_plan", plans}};
  if (!over.empty() && !rc.ignore_memory_plan)
    fail("{}: {} (the plan above); lower --step3-seq-len, --seq-len or --micro-batch{}{}, or pass "
         "--ignore-memory-plan to run anyway",
         out, over, rc.recompute == "on" ? "" : ", pass --recompute on",
         cfg.teacher_gemm == "stored" ? "" : ", pass --teacher-gemm stored");
  ctx.comm->barrier();  // every rank has checked the folder before rank 0 creates it

  Model teacher = open_model(cfg.teacher);
  Model student = resume ? open_model(join(ck_dir, "model")) : initial_student(cfg, teacher);
  check_compatible(teacher, student);
  if (cfg.teacher_gemm == "stored") {  // after step 0 has copied it: its fp32 copy goes
    const StoredReport r = hold_teacher_stored(teacher);
    if (lead)
      fmt::print(stderr, "teacher held as stored: {} tensors, {:.1f} MB of blocks in place of {:.1f} MB of fp32\n",
                 r.weights, double(r.stored_bytes) / 1e6, double(r.freed_bytes) / 1e6);
  }
  TokenDataset train = TokenDataset::open(join(cfg.data, "train"));
  if (train.n_tokens() > 0 && teacher.cfg.n_vocab > 0) {
    // Ids beyond the vocabulary would index past the embedding: catch a data
    // folder prepared with another tokenizer before any training.
    std::vector<int32_t> probe(size_t(std::min<int64_t>(train.n_tokens(), 1 << 16)));
    train.read(0, int64_t(probe.size()), probe.data());
    for (int32_t t : probe)
      if (t < 0 || t >= teacher.cfg.n_vocab)
        fail("{}: token id {} is outside the teacher's vocabulary ({}); prepare the data with its tokenizer",
             join(cfg.data, "train.bin"), t, teacher.cfg.n_vocab);
  }
  // On a device backend the phases compute from copies of both models in its
  // memory; the host copies are what evaluation, checkpoints and the export
  // read, so the student's weights come back before each (one copy). The
  // held-out scores run on the CPU backend then.
  const bool on_device = ctx.be().device() != Device::Cpu;
  if (on_device && ctx.world() > 1)
    fail("--backend {} under mpirun needs the NCCL communication interface, which is not built yet", ctx.be().name());
  std::optional<Model> dev_teacher, dev_student;
  auto student_to_host = [&] {
    if (dev_student) ctx.be().to_host(student.params->data(), dev_student->params->data(), student.params->bytes());
  };
  HeldoutEvaluator heldout(on_device ? cpu_backend() : ctx.be(), teacher, heldout_windows(cfg));
  if (!resume && lead) {  // only once every input has loaded: a bad one leaves no run folder behind
    fs::create_directories(out, ec);
    if (ec) fail("{}: cannot create: {}", out, ec.message());
    write_json_atomic(join(out, "config.json"), cfg_json);
  }

  if (resume && lead) truncate_after_step(log_path, ck->phase, ck->step);
  std::optional<MetricsLog> log;
  if (lead) log.emplace(log_path, resume);
  auto has_eval = [&](const std::string& of) {
    for (const json& r : read_metrics(log_path))
      if (r.value("phase", "") == "eval" && r.value("of", "") == of) return true;
    return false;
  };
  auto evaluate = [&](const std::string& of) {
    if (!lead) return;
    student_to_host();
    HeldoutScores s = heldout.score(student);
    print_eval(of, s);
    log->append(eval_record(of, s));
    log->sync();
  };
  if (!resume) evaluate(cfg.student.empty() ? "init" : "start");
  if (on_device) {
    dev_teacher.emplace(model_on_device(teacher, ctx.be()));
    dev_student.emplace(model_on_device(student, ctx.be()));
  }
  Model& work_student = on_device ? *dev_student : student;
  const Model& work_teacher = on_device ? *dev_teacher : teacher;

  {
    StopSignals stop;  // SIGINT/SIGTERM: finish the step, checkpoint, leave (restored when training ends)
    for (int pi = first; pi < int(cfg.phases.size()); pi++) {
      const PhaseConfig& pc = cfg.phases[size_t(pi)];
      if (pc.steps() == 0) continue;
      const int64_t start = (resume && pi == first) ? ck->step : 0;
      if (start < pc.steps()) {
        const bool align = pc.name == "align";
        ParamSet params(ctx.be(), work_student,
                        [&](const std::string& n) { return !align || is_time_mix_param(student, n); });
        const PhaseSharing sharing =
            plan_sharing(ctx, work_student, params, cfg.zero != 0, align && cfg.align_parallel == "layers");
        AdamW opt(params, AdamWConfig{});
        if (start > 0) load_optimizer_state(ck_dir, params, opt);
        const TeacherGemm tg = teacher_gemm_from_name(cfg.teacher_gemm, ctx.be());
        std::unique_ptr<Objective> obj =
            align ? make_align_objective(ctx.be(), work_teacher, work_student, tg, sharing.owned_layers)
                  : make_distill_objective(ctx.be(), &work_teacher, work_student, pc.kl_weight, pc.ce_weight, tg,
                                           plan_of[size_t(pi)].recompute);
        WindowSampler sampler(train, pc.seq_len + 1, cfg.seed + uint64_t(pi) * 1000003u);
        if (lead)
          fmt::print(stderr, "{}: {} steps of {} windows x {} tokens, {} trainable parameters ({:.1f} M); {}{}\n",
                     pc.name, pc.steps(), pc.batch, pc.seq_len, params.names.size(), params.n_params / 1e6,
                     sharing.summary, plan_of[size_t(pi)].recompute ? "; activation recompute" : "");
        ProgressOptions popt;
        popt.start_step = start;
        popt.start_tokens = start * pc.tokens_per_step();
        std::optional<ProgressBar> bar;
        if (lead) bar.emplace(pc.name, pc.steps(), pc.steps() * pc.tokens_per_step(), popt);
        const double t_phase = now_seconds();
        if (lead)
          fmt::print(stderr, "{}: resident memory before the phase {:.2f} GB, peak so far {:.2f} GB (the plan's load peak {:.2f} GB)\n",
                     pc.name, double(rss_bytes()) / 1e9, double(peak_rss_bytes()) / 1e9, double(plan_of[size_t(pi)].load_peak) / 1e9);
        const bool phase_peak = reset_peak_rss();  // the phase's own peak, apart from loading
        train_phase(ctx, pc, *obj, params, opt, sampler, start, [&](const StepReport& r) {
          int sig = stop.requested();
          if (ctx.world() > 1) {  // every rank stops after the same step, or some would wait forever
            double any = sig;
            ctx.comm->all_reduce_sum(&any, 1);
            if (any > 0 && !sig) sig = SIGTERM;  // (mpirun forwards a signal to every rank)
          }
          json rec = {{"phase", pc.name}, {"step", r.step},     {"tokens", r.tokens},
                      {"loss", r.loss},   {"lr", r.lr},         {"grad_norm", r.grad_norm},
                      {"tok_s", double(pc.tokens_per_step()) / std::max(r.seconds, 1e-9)},
                      {"time_s", now_seconds() - t_phase}};
          if (align) rec["layer_loss"] = r.layer_loss;
          if (r.skipped) rec["skipped"] = true;  // non-finite: no update (--skip-nonfinite)
          if (lead) {
            log->append(rec);
            bar->update(r.step, r.tokens, r.loss, fmt::format("lr {:.2e} |g| {:.3f}", r.lr, r.grad_norm));
          }
          const bool last = r.step == pc.steps();
          if (sig || last || (cfg.checkpoint_every > 0 && r.step % cfg.checkpoint_every == 0)) {
            if (lead) log->sync();
            const TrainState st{pc.name, r.step, pc.steps(), r.tokens, cfg_json};
            student_to_host();
            save_checkpoint(*ctx.comm, ckdir, student, params, opt, st);  // rank 0 writes; ZeRO shards stream to it
            ctx.comm->barrier();  // the checkpoint is complete before any rank goes on (or stops)
          }
          if (sig)
            throw Interrupted(fmt::format("stopped by signal {} after {} step {} of {}; checkpoint written. Continue "
                                          "with: {}",
                                          sig, pc.name, r.step, pc.steps(), resume_cmd),
                              sig);
        }, sharing.step);
        if (bar) bar->finish();
        if (lead)
          fmt::print(stderr, "{}: peak resident memory {} {:.2f} GB (the plan of {}: {:.2f} GB)\n", pc.name,
                     phase_peak ? "in the phase" : "so far",
                     double(phase_peak ? peak_rss_since_reset_bytes() : peak_rss_bytes()) / 1e9, pc.name,
                     double(plan_of[size_t(pi)].total()) / 1e9);
      }
      if (lead && !has_eval(pc.name)) evaluate(pc.name);
    }

    if (const int sig = stop.requested())  // arrived during an evaluation: every step is checkpointed
      throw Interrupted(fmt::format("stopped by signal {} after the training; continue with: {} (it writes the "
                                    "final student and results)",
                                    sig, resume_cmd),
                        sig);
  }

  // The final student, replacing one a finished-then-resumed run wrote.
  student_to_host();
  const std::string final_dir = join(out, "student");
  if (!lead) return json{{"student", final_dir}, {"teacher", cfg.teacher}, {"rank", ctx.rank()}};
  fs::remove_all(final_dir, ec);
  save_model_hf(student, final_dir);
  fmt::print(stderr, "wrote {}\n", final_dir);

  std::vector<json> evals;
  for (const json& r : read_metrics(log_path))
    if (r.value("phase", "") == "eval") evals.push_back(r);
  json results = {{"student", final_dir},
                  {"teacher", cfg.teacher},
                  {"heldout", evals},
                  {"eval_tasks", cfg.eval_tasks},
                  {"eval_limit", cfg.eval_limit}};
  write_json_atomic(join(out, "results.json"), results);
  return results;
}

}  // namespace radlads
