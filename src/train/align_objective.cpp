// Step 1, attention hidden-state alignment (DESIGN.md "The protocol"). The
// teacher runs its own forward; a hook sees every layer's normed input and
// attention output, runs the student's time mix on the same input and keeps
// the loss gradient. The backward then goes down the layers in reverse, so
// that RAD-RWKV7's value residual (layer 0's v feeds every later layer)
// receives the gradients of all the layers that read it.
#include <span>
#include <vector>

#include "core/error.h"
#include "models/mixers/mixer_arch.h"
#include "models/teacher.h"
#include "train/objective.h"

namespace radlads {

namespace {

class AlignObjective : public Objective {
 public:
  AlignObjective(const Backend& be, const Model& teacher, const Model& student, TeacherGemm gemm,
                 std::vector<bool> owned)
      : be_(be), ws_(be), teacher_(be, teacher, gemm), c_(student.cfg), o_(student.student), rope_(c_.head_dim, c_.rope_theta),
        tokens_dev_(be), pos_dev_(be) {
    CHECK(o_.is_student(), "{} is not a student", student.path);
    const int L = c_.n_layer;
    const MixerArch& arch = mixer_arch(o_.arch);
    value_residual_ = arch.value_residual;
    if (owned.empty()) owned.assign(size_t(L), true);
    CHECK(int(owned.size()) == L, "{} layers owned of {}", owned.size(), L);
    owned_ = owned;
    mix_.resize(size_t(L));
    for (int l = 0; l < L; l++) {
      if (o_.softmax_layer(l, L)) continue;  // hybrid layers keep the teacher's attention: nothing to align
      n_aligned_++;
      // Layer-parallel: a rank runs its own layers, and layer 0 too where its
      // value feeds every later layer (v_first), so that the layers it owns
      // see the same v_first and send their gradient back into layer 0's
      // parameters (summed over the ranks by the trainer).
      if (owned[size_t(l)] || (value_residual_ && l == 0)) mix_[size_t(l)] = arch.make(be, ws_, student, l);
      if (owned[size_t(l)]) n_owned_++;
    }
    CHECK(n_aligned_ > 0, "{}: every layer is softmax attention; nothing to align", student.path);
  }

  int64_t rows_per_window(int T) const override { return int64_t(T) * n_aligned_; }

  const ObjectiveLoss& accumulate(const int32_t* windows, int B, int T, float grad_scale, Arena* g) override {
    const int L = c_.n_layer;
    const MixDims d(c_, B, T);
    const int64_t M = d.M, C = d.C;
    tokens_.resize(size_t(M));
    pos_.resize(size_t(M));
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++) {
        tokens_[size_t(b) * T + t] = windows[int64_t(b) * (T + 1) + t];
        pos_[size_t(b) * T + t] = t;
      }
    rope_.ensure(T);
    // The windows are host memory (the data pipeline's); the ops read these copies.
    const int32_t* tokens = tokens_dev_.upload(tokens_);
    pos_d_ = pos_dev_.upload(pos_);
    if (int(caches_.size()) != B || caches_[0].n_ctx < T) {
      caches_.clear();
      for (int b = 0; b < B; b++) caches_.emplace_back(c_, T, c_.n_layer, be_);
    }
    for (auto& kc : caches_) kc.n_past = 0;
    ws_.reset();  // this micro-batch's buffers: the mixers' forward and backward, the loss gradients
    ys_ = ws_.take(M * C);
    d_y_.resize(size_t(L));
    v_first_ = value_residual_ ? ws_.take(M * d.A) : std::span<float>();
    if (value_residual_) be_.fill(v_first_.data(), 0.0f, M * d.A);

    ObjectiveLoss& out = out_;
    out.sum = 0;
    out.layer_sum.assign(size_t(L), 0.0);
    out.rows = M * n_owned_;
    B_ = B, T_ = T;
    grad_scale_ = grad_scale;
    // Captures only `this`: small enough for std::function's inline buffer,
    // so setting the hook allocates nothing.
    teacher_.layer_hook = [this](int l, const float* xn, const float* y_teacher) { align_layer(l, xn, y_teacher); };
    teacher_.forward(tokens, B, T, caches_.data(), nullptr, LogitsMode::None);
    teacher_.layer_hook = nullptr;

    // Backward, top layer first; d_xn is not needed (the teacher is frozen)
    // but the mixers compute it on the way to their parameter gradients.
    const std::span<float> d_xn = ws_.take(M * C);
    const std::span<float> d_v_first = value_residual_ ? ws_.take(M * d.A) : std::span<float>();
    if (value_residual_) be_.fill(d_v_first.data(), 0.0f, M * d.A);
    for (int l = L - 1; l >= 0; l--)
      if (mix_[size_t(l)]) {
        const Workspace::Mark mark = ws_.mark();  // this layer's backward scratch
        mix_[size_t(l)]->backward(d_xn.data(), d_v_first.empty() ? nullptr : d_v_first.data(),
                                  d_y_[size_t(l)].data(), d, pos_d_, v_first_.empty() ? nullptr : v_first_.data(),
                                  rope_, g);
        ws_.release(mark);
      }
    ws_.settle();  // the micro-batch is done
    return out;
  }

 private:
  // Called by the teacher's forward at each layer with that layer's normed
  // input and its attention output: the student's mix forward and the loss.
  void align_layer(int l, const float* xn, const float* y_teacher) {
    if (!mix_[size_t(l)]) return;
    const MixDims d(c_, B_, T_);
    TimeMixIO io;
    io.xn = xn;
    io.y = ys_.data();
    io.pos = pos_d_;
    io.v_first = v_first_.empty() ? nullptr : v_first_.data();
    mix_[size_t(l)]->forward(d, io, rope_);
    d_y_[size_t(l)] = ws_.take(d.M * d.C);
    if (!owned_[size_t(l)]) {  // run for v_first only: its own loss is another rank's
      be_.fill(d_y_[size_t(l)].data(), 0.0f, d.M * d.C);
      return;
    }
    const double s = be_.align_l2(d_y_[size_t(l)].data(), ys_.data(), y_teacher, d.M, d.C, grad_scale_);
    out_.layer_sum[size_t(l)] = s;
    out_.sum += s;
  }

  const Backend& be_;
  Workspace ws_;  // the student mixers' buffers and the loss gradients of one micro-batch
  Teacher teacher_;
  TeacherConfig c_;
  StudentOptions o_;
  RopeTable rope_;
  int n_aligned_ = 0, n_owned_ = 0;
  std::vector<bool> owned_;  // the layers whose loss and gradients this rank computes
  std::vector<std::unique_ptr<TokenMixer>> mix_;  // null for hybrid softmax layers
  bool value_residual_ = false;
  std::vector<KVCache> caches_;
  std::vector<int32_t> tokens_, pos_;
  DeviceArray<int32_t> tokens_dev_, pos_dev_;
  const int32_t* pos_d_ = nullptr;  // pos_ in the backend's memory
  std::span<float> ys_, v_first_;
  std::vector<std::span<float>> d_y_;  // per layer: ∂loss/∂y_student
  ObjectiveLoss out_;
  int B_ = 0, T_ = 0;
  float grad_scale_ = 0;
};

}  // namespace

std::unique_ptr<Objective> make_align_objective(const Backend& be, const Model& teacher, const Model& student,
                                                TeacherGemm gemm, std::vector<bool> owned_layers) {
  return std::make_unique<AlignObjective>(be, teacher, student, gemm, std::move(owned_layers));
}

}  // namespace radlads
