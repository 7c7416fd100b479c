#include "train/heldout_eval.h"

#include <cmath>

#include "core/error.h"
#include "core/sysinfo.h"
#include "models/student.h"
#include "models/teacher.h"

namespace radlads {

double HeldoutScores::student_ppl() const { return std::exp(student_nll); }
double HeldoutScores::teacher_ppl() const { return std::exp(teacher_nll); }

namespace {
// Σ CE of positions 0..T-2 (the last has no target).
double sum_nll(const Backend& be, const std::vector<float>& logits, const std::vector<int32_t>& w, int64_t V) {
  std::vector<int32_t> targets(w.begin() + 1, w.end());
  return be.cross_entropy(nullptr, nullptr, logits.data(), targets.data(), int64_t(targets.size()), V, 1.0f);
}
}  // namespace

HeldoutEvaluator::HeldoutEvaluator(const Backend& be, const Model& teacher,
                                   std::vector<std::vector<int32_t>> windows)
    : be_(be), windows_(std::move(windows)), n_vocab_(teacher.cfg.n_vocab) {
  Teacher t(be, teacher);
  for (const auto& w : windows_) {
    const int T = int(w.size());
    CHECK(T >= 2, "held-out windows need at least 2 tokens");
    KVCache cache(teacher.cfg, T);
    std::vector<float> logits(size_t(T) * size_t(n_vocab_));
    t.forward(w.data(), 1, T, &cache, logits.data(), LogitsMode::All);
    teacher_nll_sum_ += sum_nll(be_, logits, w, n_vocab_);
    teacher_logits_.push_back(std::move(logits));
  }
}

HeldoutScores HeldoutEvaluator::score(const Model& student) {
  const double t0 = now_seconds();
  Student s(be_, student);
  HeldoutScores r;
  double nll = 0, kl = 0;
  for (size_t i = 0; i < windows_.size(); i++) {
    const auto& w = windows_[i];
    const int T = int(w.size());
    std::vector<float> logits(size_t(T) * size_t(n_vocab_));
    s.forward(w.data(), 1, T, nullptr, logits.data(), LogitsMode::All);
    nll += sum_nll(be_, logits, w, n_vocab_);
    kl += be_.kl_divergence(nullptr, logits.data(), teacher_logits_[i].data(), T - 1, n_vocab_, 1.0f);
    r.tokens += T - 1;
  }
  r.student_nll = nll / double(r.tokens);
  r.teacher_nll = teacher_nll_sum_ / double(r.tokens);
  r.kl = kl / double(r.tokens);
  r.seconds = now_seconds() - t0;
  return r;
}

}  // namespace radlads
