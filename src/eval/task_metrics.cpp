// acc, acc_norm, LAMBADA acc and perplexity, standard errors.
#include "eval/task_metrics.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace radlads {

const Metric* TaskMetrics::find(std::string_view name) const {
  for (const auto& [k, m] : metrics)
    if (k == name) return &m;
  return nullptr;
}

Metric mean_with_stderr(const std::vector<double>& x) {
  Metric m;
  const size_t n = x.size();
  if (n == 0) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  double sum = 0;
  for (double v : x) sum += v;
  m.value = sum / double(n);
  if (n < 2) {
    m.se = std::numeric_limits<double>::quiet_NaN();
    return m;
  }
  double ss = 0;
  for (double v : x) ss += (v - m.value) * (v - m.value);
  m.se = std::sqrt(ss / double(n - 1) / double(n));
  return m;
}

int64_t choice_length(std::string_view continuation) {
  if (!continuation.empty() && continuation[0] == ' ') continuation.remove_prefix(1);
  int64_t n = 0;
  for (unsigned char c : continuation) n += (c & 0xC0) != 0x80;  // count lead bytes only
  return n;
}

TaskMetrics compute_task_metrics(const EvalTask& task, const std::vector<std::vector<ChoiceScore>>& scores) {
  CHECK(scores.size() == task.items.size(), "{} scores for {} items", scores.size(), task.items.size());
  TaskMetrics m;
  m.task = task.name;
  m.n = int64_t(task.items.size());
  if (task.kind == TaskKind::Lambada) {
    std::vector<double> hit, ll;
    for (const auto& s : scores) {
      CHECK(s.size() == 1, "LAMBADA item with {} continuations", s.size());
      hit.push_back(s[0].greedy ? 1.0 : 0.0);
      ll.push_back(s[0].loglik);
    }
    m.chance = 0;
    m.metrics.emplace_back("acc", mean_with_stderr(hit));
    // The harness's perplexity: exp(-mean over documents of each document's
    // summed log-likelihood). Its error by the delta method, ppl * se(mean ll)
    // (the harness bootstraps it; the two agree for large n).
    Metric mll = mean_with_stderr(ll);
    double ppl = std::exp(-mll.value);
    m.metrics.emplace_back("ppl", Metric{ppl, ppl * mll.se});
    return m;
  }
  std::vector<double> acc, acc_norm;
  double chance = 0;
  for (size_t i = 0; i < scores.size(); i++) {
    const EvalItem& item = task.items[i];
    CHECK(scores[i].size() == item.choices.size(), "{} scores for {} choices", scores[i].size(), item.choices.size());
    size_t best = 0, best_norm = 0;
    double best_norm_v = 0;
    for (size_t c = 0; c < item.choices.size(); c++) {
      // A choice of length 0 is normalised by 1 rather than dividing by zero.
      double norm = scores[i][c].loglik / double(std::max<int64_t>(1, choice_length(item.choices[c].continuation)));
      if (scores[i][c].loglik > scores[i][best].loglik) best = c;  // ties: the first, as np.argmax
      if (c == 0 || norm > best_norm_v) {
        best_norm = c;
        best_norm_v = norm;
      }
    }
    acc.push_back(best == size_t(item.gold) ? 1.0 : 0.0);
    acc_norm.push_back(best_norm == size_t(item.gold) ? 1.0 : 0.0);
    chance += 1.0 / double(item.choices.size());
  }
  m.chance = scores.empty() ? 0 : chance / double(scores.size());
  m.metrics.emplace_back("acc", mean_with_stderr(acc));
  m.metrics.emplace_back("acc_norm", mean_with_stderr(acc_norm));
  return m;
}

}  // namespace radlads
