// Steps 2 and 3 (DESIGN.md "The protocol"): forward KL(p_teacher ‖ p_student)
// over the full vocabulary, and/or next-token cross-entropy, each a mean over
// tokens; every student tensor receives gradients. Both heads and the losses
// run over blocks of distill_head_rows rows: the logits of a long window
// (T·V floats, 3 GB at T = 16 K for a 49 K vocabulary) are never whole.
#include <algorithm>
#include <span>
#include <vector>

#include "core/error.h"
#include "models/student.h"
#include "models/teacher.h"
#include "train/objective.h"

namespace radlads {

int64_t distill_head_rows(int64_t V) {
  // 64 MiB of logits per block: GEMMs of a few hundred rows, still at full speed.
  return std::max<int64_t>(16, (int64_t(64) << 20) / (int64_t(sizeof(float)) * std::max<int64_t>(1, V)));
}

namespace {

class DistillObjective : public Objective {
 public:
  DistillObjective(const Backend& be, const Model* teacher, const Model& student, double kl_w, double ce_w,
                   TeacherGemm gemm, bool recompute)
      : be_(be), ws_(be), student_(be, student), kl_w_(kl_w), ce_w_(ce_w), inputs_dev_(be), targets_dev_(be) {
    student_.set_recompute(recompute);
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
    // The windows are host memory (the data pipeline's); the ops read these copies.
    const int32_t* inputs = inputs_dev_.upload(inputs_);
    const int32_t* targets = targets_dev_.upload(targets_);
    ObjectiveLoss& out = out_;
    out.sum = 0;
    out.rows = M;
    if (teacher_) {  // its final normed rows; its head runs block by block below
      if (int(caches_.size()) != B || caches_[0].n_ctx < T) {
        caches_.clear();
        for (int b = 0; b < B; b++) caches_.emplace_back(teacher_->cfg(), T, teacher_->cfg().n_layer, be_);
      }
      for (auto& kc : caches_) kc.n_past = 0;
      teacher_->forward(inputs, B, T, caches_.data(), nullptr, LogitsMode::Hidden);
    }
    student_.reserve_train(B, T);  // the plan's size at once, not block by block (a no-op once it is)
    student_.forward_train(inputs, B, T, nullptr);
    // The heads and losses over blocks of rows: never a whole (M, V) matrix.
    const int64_t R = std::min(M, distill_head_rows(V));
    ws_.reset();
    const std::span<float> s_logits = ws_.take(R * V);
    const std::span<float> t_logits = teacher_ ? ws_.take(R * V) : std::span<float>();
    const std::span<float> d_ce = kl_w_ > 0 && ce_w_ > 0 ? ws_.take(R * V) : std::span<float>();
    for (int64_t r0 = 0; r0 < M; r0 += R) {
      const int64_t n = std::min(R, M - r0);
      float* s = s_logits.data();
      student_.head_rows(s, r0, n);
      if (teacher_) teacher_->head_rows(t_logits.data(), r0, n);
      // Each loss writes its gradient: KL in place over the student logits,
      // cross-entropy into a second buffer only when both are mixed.
      const int32_t* tg = targets + r0;
      if (kl_w_ > 0 && ce_w_ > 0) {
        out.sum += ce_w_ * be_.cross_entropy(d_ce.data(), nullptr, s, tg, n, V, float(grad_scale * ce_w_));
        out.sum += kl_w_ * be_.kl_divergence(s, s, t_logits.data(), n, V, float(grad_scale * kl_w_));
        be_.add_inplace(s, d_ce.data(), n * V);
      } else if (kl_w_ > 0) {
        out.sum += kl_w_ * be_.kl_divergence(s, s, t_logits.data(), n, V, float(grad_scale * kl_w_));
      } else {
        out.sum += ce_w_ * be_.cross_entropy(s, nullptr, s, tg, n, V, float(grad_scale * ce_w_));
      }
      student_.head_backward_rows(s, r0, n, g);
    }
    student_.backward_hidden(g);
    ws_.settle();
    return out;
  }

 private:
  const Backend& be_;
  Workspace ws_;  // a block of rows' logits and their gradient
  Student student_;
  std::unique_ptr<Teacher> teacher_;
  double kl_w_, ce_w_;
  std::vector<KVCache> caches_;
  std::vector<int32_t> inputs_, targets_;
  DeviceArray<int32_t> inputs_dev_, targets_dev_;
  ObjectiveLoss out_;
};

}  // namespace

std::unique_ptr<Objective> make_distill_objective(const Backend& be, const Model* teacher, const Model& student,
                                                  double kl_weight, double ce_weight, TeacherGemm gemm,
                                                  bool recompute) {
  return std::make_unique<DistillObjective>(be, teacher, student, kl_weight, ce_weight, gemm, recompute);
}

}  // namespace radlads
