#include "eval/eval_suite.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <sstream>

#include "core/error.h"
#include "eval/run_task.h"
#include "eval/task_registry.h"
#include "infer/language_model.h"
#include "text/tokenizer.h"

namespace radlads {

std::string default_eval_data_dir() {
  const char* c = std::getenv("RADLADS_CACHE");
  if (c && *c) return std::string(c) + "/eval";
  const char* h = std::getenv("HOME");
  return std::string(h ? h : "/root") + "/.cache/radlads/eval";
}

std::vector<EvalTask> load_eval_tasks(const std::string& spec, const std::string& data_dir, int64_t limit,
                                      int mmlu_shots, nlohmann::json* limits) {
  std::vector<EvalTask> tasks;
  std::stringstream ss(spec);
  std::string t;
  while (std::getline(ss, t, ',')) {
    if (t.empty()) continue;
    TaskLoadOptions lo;
    lo.limit = limit;
    lo.mmlu_shots = mmlu_shots;
    const size_t colon = t.find(':');
    const std::string name = t.substr(0, colon);
    if (colon != std::string::npos) {
      const std::string n = t.substr(colon + 1);
      char* end = nullptr;
      long long v = std::strtoll(n.c_str(), &end, 10);
      if (n.empty() || *end != '\0' || v < 0) fail("--tasks: '{}' needs a limit >= 0 after the colon", t);
      lo.limit = v;
    }
    if (limits) (*limits)[name] = lo.limit;
    tasks.push_back(load_eval_task(name, data_dir, lo));
    const EvalTask& e = tasks.back();
    fmt::print(stderr, "{}: {} of {} items; {}\n", e.name, e.items.size(), e.n_available, e.setup);
  }
  if (tasks.empty()) fail("--tasks is empty");
  return tasks;
}

ModelResults evaluate_model(const Backend& be, const std::string& path, const std::vector<EvalTask>& tasks, bool keep_tokens) {
  auto t0 = std::chrono::steady_clock::now();
  auto lm = open_language_model(be, path);
  Tokenizer tok(lm->model().tokenizer);
  ModelResults r;
  r.path = path;
  for (const EvalTask& task : tasks) {
    TaskRun run = run_task(*lm, tok, task, keep_tokens, [&](size_t done, size_t total) {
      fmt::print(stderr, "\r  {}: {}/{}", task.name, done, total);
      if (done == total) fmt::print(stderr, "\n");
    });
    fmt::print(stderr, "  {}: {:.1f} s, {:.0f} tokens/s\n", task.name, run.seconds,
               double(run.tokens_fed) / std::max(run.seconds, 1e-9));
    r.runs.push_back(std::move(run));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace radlads
