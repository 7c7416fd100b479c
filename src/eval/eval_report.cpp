// Markdown and JSON evaluation reports.
#include "eval/eval_report.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "core/error.h"

namespace radlads {

namespace {

bool is_accuracy(const std::string& metric) { return metric != "ppl"; }

// Accuracies in percent (as papers print them), perplexity as is.
std::string show(const std::string& metric, const Metric& m) {
  const double k = is_accuracy(metric) ? 100.0 : 1.0;
  if (std::isnan(m.se)) return fmt::format("{:.2f}", m.value * k);
  return fmt::format("{:.2f} ± {:.2f}", m.value * k, m.se * k);
}

std::string show_ratio(double x) { return std::isnan(x) ? "–" : fmt::format("{:.3f}", x); }

double nan() { return std::numeric_limits<double>::quiet_NaN(); }

}  // namespace

double relative_score(double s, double t, double chance) {
  if (t == chance) return nan();
  return (s - chance) / (t - chance);
}

std::string eval_markdown(const std::vector<EvalTask>& tasks, const ModelResults& model,
                          const ModelResults* teacher) {
  CHECK(model.runs.size() == tasks.size(), "{} runs for {} tasks", model.runs.size(), tasks.size());
  std::string out;
  if (teacher) {
    out += "| task | n | metric | model | teacher | ratio | relative |\n";
    out += "|---|---:|---|---:|---:|---:|---:|\n";
  } else {
    out += "| task | n | metric | model |\n";
    out += "|---|---:|---|---:|\n";
  }
  for (size_t i = 0; i < tasks.size(); i++) {
    const TaskMetrics& m = model.runs[i].metrics;
    // The paper's metric first, marked; the others after it.
    std::vector<std::string> names = {tasks[i].paper_metric};
    for (const auto& [k, v] : m.metrics)
      if (k != tasks[i].paper_metric) names.push_back(k);
    for (const std::string& k : names) {
      const Metric* s = m.find(k);
      if (!s) continue;
      std::string label = k == tasks[i].paper_metric ? k + " (paper)" : k;
      out += fmt::format("| {} | {} | {} | {} |", tasks[i].name, m.n, label, show(k, *s));
      if (teacher) {
        const Metric* t = teacher->runs[i].metrics.find(k);
        double ratio = t && t->value != 0 ? s->value / t->value : nan();
        double rel = t && is_accuracy(k) ? relative_score(s->value, t->value, m.chance) : nan();
        out += fmt::format(" {} | {} | {} |", t ? show(k, *t) : "–", show_ratio(ratio), show_ratio(rel));
      }
      out += "\n";
    }
  }
  return out;
}

nlohmann::json eval_json(const std::vector<EvalTask>& tasks, const ModelResults& model,
                         const ModelResults* teacher, const nlohmann::json& settings) {
  using json = nlohmann::json;
  auto metrics_json = [](const TaskRun& r) {
    json j = json::object();
    for (const auto& [k, m] : r.metrics.metrics) {
      j[k] = m.value;
      j[k + "_stderr"] = m.se;
    }
    j["seconds"] = r.seconds;
    j["tokens"] = r.tokens_fed;
    return j;
  };
  json out = {{"model", model.path}, {"teacher", teacher ? json(teacher->path) : json(nullptr)},
              {"settings", settings}, {"model_seconds", model.seconds}};
  if (teacher) out["teacher_seconds"] = teacher->seconds;
  json list = json::array();
  for (size_t i = 0; i < tasks.size(); i++) {
    const TaskMetrics& m = model.runs[i].metrics;
    json t = {{"task", tasks[i].name}, {"setup", tasks[i].setup}, {"n", m.n},
              {"n_available", tasks[i].n_available}, {"paper_metric", tasks[i].paper_metric},
              {"chance", m.chance}, {"model", metrics_json(model.runs[i])}};
    if (teacher) {
      t["teacher"] = metrics_json(teacher->runs[i]);
      json ratio = json::object(), rel = json::object();
      for (const auto& [k, s] : m.metrics) {
        const Metric* tm = teacher->runs[i].metrics.find(k);
        if (!tm) continue;
        ratio[k] = tm->value != 0 ? s.value / tm->value : nan();
        if (is_accuracy(k)) rel[k] = relative_score(s.value, tm->value, m.chance);
      }
      t["ratio"] = ratio;
      t["relative"] = rel;
    }
    list.push_back(t);
  }
  out["tasks"] = list;
  return out;
}

}  // namespace radlads
