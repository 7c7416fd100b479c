// Steps 2 and 3 (DESIGN.md "The protocol"): forward KL(p_teacher ‖ p_student)
// over the full vocabulary, and/or next-token cross-entropy, each a mean over
// tokens; every student tensor receives gradients. The losses work on rows of
// the [M,V] logits in chunks (Backend::kl_divergence, cross_entropy), never a [M,V] double copy.
#include <span>
#include <vector>

#include "core/error.h"
#include "models/student.h"
#include "models/teacher.h"
#include "train/objective.h"

namespace radlads {

namespace {

class DistillObjective : public Objective {
 public:
  DistillObjective(const Backend& be, const Model* teacher, const Model& student, double kl_w, double ce_w,
                   TeacherGemm gemm)
      : be_(be), ws_(be), student_(be, student), kl_w_(kl_w), ce_w_(ce_w) {
    CHECK(kl_w > 0 || ce_w > 0, "distillation needs a KL or a cross-entropy weight");
    if (kl_w > 0) {
      CHECK(teacher, "KL distillation needs a teacher");
      teacher_ = std::make_unique<Teacher>(be, *teacher, gemm);
    }
  }

  int64_t rows_per_window(int T) const override { return T; }

  const ObjectiveLoss& accumulate(const int32_t* windows, int B, int T, float grad_scale, Arena* g) override {
    const int64_t M = int64_t(B) * T, V = student_.cfg().n_vocab;
    inputs_.resize(size_t(M));
    targets_.resize(size_t(M));
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++) {
        inputs_[size_t(b) * T + t] = windows[int64_t(b) * (T + 1) + t];
        targets_[size_t(b) * T + t] = windows[int64_t(b) * (T + 1) + t + 1];
      }
    ObjectiveLoss& out = out_;
    out.sum = 0;
    out.rows = M;
    ws_.reset();
    s_logits_ = ws_.take(M * V);
    if (teacher_) {
      t_logits_ = ws_.take(M * V);
      if (int(caches_.size()) != B || caches_[0].n_ctx < T) {
        caches_.clear();
        for (int b = 0; b < B; b++) caches_.emplace_back(teacher_->cfg(), T);
      }
      for (auto& kc : caches_) kc.n_past = 0;
      teacher_->forward(inputs_.data(), B, T, caches_.data(), t_logits_.data(), LogitsMode::All);
    }
    student_.forward_train(inputs_.data(), B, T, s_logits_.data());
    // Each loss writes its gradient: KL in place over the student logits,
    // cross-entropy into a second buffer only when both are mixed.
    if (kl_w_ > 0 && ce_w_ > 0) {
      d_ce_ = ws_.take(M * V);
      out.sum += ce_w_ * be_.cross_entropy(d_ce_.data(), nullptr, s_logits_.data(), targets_.data(), M,
                                                       V, float(grad_scale * ce_w_));
      out.sum += kl_w_ * be_.kl_divergence(s_logits_.data(), s_logits_.data(), t_logits_.data(), M, V,
                                             float(grad_scale * kl_w_));
      be_.add_inplace(s_logits_.data(), d_ce_.data(), M * V);
    } else if (kl_w_ > 0) {
      out.sum = kl_w_ * be_.kl_divergence(s_logits_.data(), s_logits_.data(), t_logits_.data(), M, V,
                                            float(grad_scale * kl_w_));
    } else {
      out.sum = ce_w_ * be_.cross_entropy(s_logits_.data(), nullptr, s_logits_.data(), targets_.data(),
                                                      M, V, float(grad_scale * ce_w_));
    }
    student_.backward(s_logits_.data(), g);
    ws_.settle();
    return out;
  }

 private:
  const Backend& be_;
  Workspace ws_;  // the [M,V] logits and their gradient, one micro-batch at a time
  Student student_;
  std::unique_ptr<Teacher> teacher_;
  double kl_w_, ce_w_;
  std::vector<KVCache> caches_;
  std::vector<int32_t> inputs_, targets_;
  std::span<float> s_logits_, t_logits_, d_ce_;
  ObjectiveLoss out_;
};

}  // namespace

std::unique_ptr<Objective> make_distill_objective(const Backend& be, const Model* teacher, const Model& student,
                                                  double kl_weight, double ce_weight, TeacherGemm gemm) {
  return std::make_unique<DistillObjective>(be, teacher, student, kl_weight, ce_weight, gemm);
}

}  // namespace radlads
