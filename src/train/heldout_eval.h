// Held-out scores during a conversion: the student's perplexity, the
// teacher's, and the mean KL(teacher‖student) per token, on the same
// non-overlapping windows of the held-out split. The teacher's logits are
// computed once and kept, since the teacher never changes.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "models/model.h"

namespace radlads {

struct HeldoutScores {
  int64_t tokens = 0;     // scored positions
  double student_nll = 0, teacher_nll = 0, kl = 0;  // means per token (nats)
  double student_ppl() const;
  double teacher_ppl() const;
  double seconds = 0;
};

class HeldoutEvaluator {
 public:
  // windows: each a sequence of T tokens; position t predicts token t+1.
  HeldoutEvaluator(const Backend& be, const Model& teacher, std::vector<std::vector<int32_t>> windows);
  HeldoutScores score(const Model& student);
  int64_t n_windows() const { return int64_t(windows_.size()); }

 private:
  const Backend& be_;
  std::vector<std::vector<int32_t>> windows_;
  std::vector<std::vector<float>> teacher_logits_;  // per window (T, V)
  double teacher_nll_sum_ = 0;
  int64_t n_vocab_ = 0;
};

}  // namespace radlads
