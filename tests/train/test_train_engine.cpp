// The training engine's parts against independent computations: AdamW
// against torch's update written out in double, the LR schedules at their
// defining points, the global grad norm, and step 1's objective gradient
// (through every layer's time mix and RAD-RWKV7's value residual) against
// finite differences of its own loss.
#include <cmath>
#include <cstdio>
#include <memory>

#include "core/error.h"
#include "backend/backend.h"

#include "models/student_weights.h"
#include "train/adamw.h"
#include "train/lr_schedule.h"
#include "train/objective.h"
#include "train/param_set.h"
#include "train/run_config.h"
#include "train/trainer.h"
#include "data/windows.h"
#include "train_fixture.h"

namespace radlads {
using namespace test;

TEST(AdamW, MatchesTorchUpdateInDouble) {
  Model m;
  m.path = "mem";
  m.weights.emplace("a", Tensor({3, 2}));
  m.weights.emplace("b", Tensor({4}));
  auto init = randn(10, 1);
  for (int i = 0; i < 6; i++) m.weights["a"].data[size_t(i)] = init[size_t(i)];
  for (int i = 0; i < 4; i++) m.weights["b"].data[size_t(i)] = init[size_t(6 + i)];
  ParamSet p(cpu_backend(), m, [](const std::string&) { return true; });
  AdamWConfig cfg{0.9, 0.95, 1e-8, 0.1};
  AdamW opt(p, cfg);
  std::vector<double> w(init.begin(), init.end()), mm(10, 0), vv(10, 0);
  for (int t = 1; t <= 5; t++) {
    auto g = randn(10, 100 + uint64_t(t));
    for (int i = 0; i < 6; i++) p.grads.at("a")[i] = g[size_t(i)];
    for (int i = 0; i < 4; i++) p.grads.at("b")[i] = g[size_t(6 + i)];
    const double lr = 1e-2 * t;
    opt.step(p, lr);
    for (int i = 0; i < 10; i++) {  // torch.optim.AdamW, written out
      w[size_t(i)] *= 1 - lr * cfg.weight_decay;
      mm[size_t(i)] = 0.9 * mm[size_t(i)] + 0.1 * g[size_t(i)];
      vv[size_t(i)] = 0.95 * vv[size_t(i)] + 0.05 * double(g[size_t(i)]) * g[size_t(i)];
      const double mh = mm[size_t(i)] / (1 - std::pow(0.9, t)), vh = vv[size_t(i)] / (1 - std::pow(0.95, t));
      w[size_t(i)] -= lr * mh / (std::sqrt(vh) + 1e-8);
    }
  }
  for (int i = 0; i < 6; i++) EXPECT_NEAR(m.weights["a"].data[size_t(i)], w[size_t(i)], 1e-5) << i;
  for (int i = 0; i < 4; i++) EXPECT_NEAR(m.weights["b"].data[size_t(i)], w[size_t(6 + i)], 1e-5) << i;
  EXPECT_EQ(opt.t, 5);
}

TEST(LrSchedule, WarmupQuarterCosineAndFlat) {
  LrSchedule s{LrSchedule::Cosine, 1e-3, 1e-5, 10, 101};
  EXPECT_NEAR(s.at(0), 1e-3 * 0.01, 1e-12);                   // warm-up starts at 1 %
  EXPECT_NEAR(s.at(5), (1e-5 + (1e-3 - 1e-5) * std::cos(M_PI / 2 * 0.05)) * (0.01 + 0.99 * 0.5), 1e-12);
  EXPECT_NEAR(s.at(50), 1e-5 + (1e-3 - 1e-5) * std::cos(M_PI / 4), 1e-12);  // half-way: cos(π/4)
  EXPECT_NEAR(s.at(100), 1e-5, 1e-12);                          // ends at lr_end
  LrSchedule f{LrSchedule::Flat, 1e-5, 1e-5, 4, 20};
  EXPECT_NEAR(f.at(2), 1e-5 * (0.01 + 0.99 * 0.5), 1e-15);
  EXPECT_DOUBLE_EQ(f.at(4), 1e-5);
  EXPECT_DOUBLE_EQ(f.at(19), 1e-5);
  EXPECT_THROW(LrSchedule::kind_from_name("linear"), Error);
}

TEST(ParamSet, GradNormAndGroups) {
  Model s = init_student(open_model(golden_model("qwen2")), StudentOptions::defaults(StudentArch::RWKV7,
                                                                                       open_model(golden_model("qwen2")).cfg), 3);
  ParamSet all(cpu_backend(), s, [](const std::string&) { return true; });
  ParamSet attn(cpu_backend(), s, [&](const std::string& n) { return is_time_mix_param(s, n); });
  EXPECT_EQ(all.names.size(), s.weights.size());
  EXPECT_LT(attn.names.size(), all.names.size());
  for (const auto& n : attn.names) EXPECT_NE(n.find(".self_attn."), std::string::npos) << n;
  EXPECT_TRUE(attn.grads.find("model.layers.0.self_attn.q_proj.weight"));
  EXPECT_FALSE(attn.grads.find("model.layers.0.mlp.up_proj.weight"));
  double want = 0;
  uint64_t seed = 7;
  for (size_t i = 0; i < all.names.size(); i++) {
    auto r = randn(size_t(all.grads.numel(i)), seed++);
    std::copy(r.begin(), r.end(), all.grad(i));
    for (float x : r) want += double(x) * x;
  }
  EXPECT_NEAR(all.grad_norm(), std::sqrt(want), 1e-9 * std::sqrt(want));
  all.scale_grads(0.5f);
  EXPECT_NEAR(all.grad_norm(), 0.5 * std::sqrt(want), 1e-6 * std::sqrt(want));
}

// Step 1's gradient: the loss is a sum over layers that share RAD-RWKV7's
// value residual, so layer 0's value tensors get gradients from every layer.
// Central differences in fp32 with h = 1e-2 on an O(1) loss: agreement to a
// few per cent is what fp32 allows; a missing path is off by far more.
TEST(AlignObjective, GradientMatchesFiniteDifferences) {
  Model t = open_model(golden_model("qwen2"));
  StudentOptions o = StudentOptions::defaults(StudentArch::RWKV7, t.cfg);
  Model s = init_student(t, o, 5);
  auto noise = randn(1 << 16, 9, 0.3f);
  size_t k = 0;
  for (auto& spec : student_new_tensors(s.cfg, s.student))  // step 0 zeroes many tensors
    for (auto& x : s.weights[spec.name].data) x += noise[k++ % noise.size()];
  const int T = 12;
  std::vector<int32_t> win(size_t(2 * (T + 1)));
  for (size_t i = 0; i < win.size(); i++) win[i] = int32_t((i * 37 + 5) % size_t(t.cfg.n_vocab));
  ParamSet p(cpu_backend(), s, [&](const std::string& n) { return is_time_mix_param(s, n); });
  auto obj = make_align_objective(cpu_backend(), t, s);
  const float scale = float(1.0 / double(2 * obj->rows_per_window(T)));
  p.zero_grad();
  obj->accumulate(win.data(), 2, T, scale, &p.grads);
  auto loss = [&]() {
    Arena none;
    ObjectiveLoss l = obj->accumulate(win.data(), 2, T, scale, &none);
    return l.sum * scale;
  };
  int checked = 0;
  for (const char* name : {"model.layers.0.self_attn.v_proj.weight", "model.layers.1.self_attn.v0",
                           "model.layers.1.self_attn.v1", "model.layers.1.self_attn.w0",
                           "model.layers.0.self_attn.o_proj.weight", "model.layers.1.self_attn.a0"}) {
    Tensor& w = s.weights.at(name);
    const float* g = p.grads.at(name);
    for (int64_t i : {int64_t(0), w.numel() / 2, w.numel() - 1}) {
      const float x0 = w.data[size_t(i)], h = 1e-2f;
      w.data[size_t(i)] = x0 + h;
      const double lp = loss();
      w.data[size_t(i)] = x0 - h;
      const double lm = loss();
      w.data[size_t(i)] = x0;
      const double fd = (lp - lm) / (2 * h), an = g[i];
      EXPECT_NEAR(an, fd, 3e-2 * std::max(std::abs(fd), 1e-2)) << name << "[" << i << "]";
      checked++;
    }
  }
  EXPECT_EQ(checked, 18);
}

}  // namespace radlads

namespace radlads {

// A bf16 teacher (TeacherGemm::BF16) changes only the targets' rounding: the
// student's losses and gradients must stay within what bf16 inputs (2^-8
// relative per operand) can move them. Measured on the tiny golden teacher:
// losses within 0.2 %, gradients within 1-3 % (normalised error); the bounds
// below leave room for other CPUs' accumulation orders.
TEST(TeacherGemm, Bf16TeacherKeepsLossesAndGradientsWithinTolerance) {
  Model t = open_model(golden_model("qwen2"));
  Model s = init_student(t, StudentOptions::defaults(StudentArch::RWKV7, t.cfg), 5);
  auto noise = randn(1 << 16, 9, 0.3f);
  size_t k = 0;
  for (auto& spec : student_new_tensors(s.cfg, s.student))
    for (auto& x : s.weights[spec.name].data) x += noise[k++ % noise.size()];
  const int T = 12;
  std::vector<int32_t> win(size_t(2 * (T + 1)));
  for (size_t i = 0; i < win.size(); i++) win[i] = int32_t((i * 37 + 5) % size_t(t.cfg.n_vocab));
  for (bool align : {true, false}) {
    ParamSet p(cpu_backend(), s, [&](const std::string& n) { return !align || is_time_mix_param(s, n); });
    double loss[2];
    Arena grads[2];
    for (int i = 0; i < 2; i++) {
      const TeacherGemm g = i ? TeacherGemm::BF16 : TeacherGemm::F32;
      auto obj = align ? make_align_objective(cpu_backend(), t, s, g) : make_distill_objective(cpu_backend(), &t, s, 1.0, 0.0, g);
      p.zero_grad();
      loss[i] = obj->accumulate(win.data(), 2, T, 1.0f, &p.grads).sum;
      grads[i] = p.grads;
    }
    EXPECT_LT(std::abs(loss[1] - loss[0]), 5e-3 * std::abs(loss[0])) << (align ? "align" : "distill");
    std::vector<float> a, b;
    for (size_t k = 0; k < grads[0].size(); k++) {
      const float* g0 = grads[0].f32(k);
      const float* g1 = grads[1].at(grads[0].name(k));
      a.insert(a.end(), g0, g0 + grads[0].numel(k));
      b.insert(b.end(), g1, g1 + grads[0].numel(k));
    }
    const double e = rel_err(b, a);
    std::printf("%s: loss f32 %.6g bf16 %.6g (%.2e relative), gradient error %.2e\n", align ? "align" : "distill",
                loss[0], loss[1], std::abs(loss[1] - loss[0]) / std::abs(loss[0]), e);
    EXPECT_LT(e, 5e-2) << (align ? "align" : "distill");
    EXPECT_GT(e, 0.0) << "the bf16 teacher must actually run";
  }
}


// A NaN gradient with a finite loss stops the phase before the update, naming
// the step, with the weights of the step before.
namespace {
class PoisonAtStep final : public Objective {
 public:
  PoisonAtStep(const ParamSet& p, int bad_call, int bad_call2 = -1) : p_(p), bad_call_(bad_call), bad_call2_(bad_call2) {}
  int64_t rows_per_window(int T) const override { return T; }
  const ObjectiveLoss& accumulate(const int32_t*, int B, int T, float grad_scale, Arena* g) override {
    out_.sum = double(B) * T;
    out_.rows = int64_t(B) * T;
    for (size_t i = 0; i < p_.names.size(); i++)
      for (int64_t j = 0; j < g->numel(i); j++) g->f32(i)[j] += grad_scale * 0.01f;
    if (++calls_ == bad_call_ || calls_ == bad_call2_) g->f32(0)[0] = std::nanf("");
    return out_;
  }

 private:
  const ParamSet& p_;
  int bad_call_, bad_call2_, calls_ = 0;
  ObjectiveLoss out_;
};
}  // namespace

// A one-parameter phase of 5 steps of 2 windows, one micro-batch per step.
struct TinyPhase {
  test::TempDir tmp;
  std::unique_ptr<TokenDataset> data;
  Model m;
  std::unique_ptr<ParamSet> p;
  std::unique_ptr<AdamW> opt;
  PhaseConfig pc;
  TinyPhase() {
    test::write_random_binidx(tmp.file("train"), 4, 97, 50, 3);
    data = std::make_unique<TokenDataset>(TokenDataset::open(tmp.file("train")));
    m.path = "mem";
    m.weights.emplace("a", Tensor({4, 3}));
    p = std::make_unique<ParamSet>(cpu_backend(), m, [](const std::string&) { return true; });
    opt = std::make_unique<AdamW>(*p, AdamWConfig{});
    pc.name = "distill";
    pc.seq_len = 8;
    pc.batch = 2;
    pc.micro_batch = 2;
    pc.tokens = 5 * pc.tokens_per_step();
    pc.lr.total_steps = 5;
    pc.lr.warmup_steps = 0;
  }
  // Runs the phase; the weights after each step, and the error ("" when none).
  std::string run(Objective& obj, std::vector<std::vector<float>>& after, std::vector<bool>& skipped) {
    WindowSampler sampler(*data, pc.seq_len + 1, 1);
    return test::error_of([&] {
      train_phase(ExecContext::local(1), pc, obj, *p, *opt, sampler, 0, [&](const StepReport& r) {
        after.push_back(m.weights.at("a").data);
        skipped.push_back(r.skipped);
      });
    });
  }
};

// With --skip-nonfinite the poisoned step is skipped (no update, reported as
// such) and the phase goes on; a second in a row beyond the allowance stops it.
TEST(TrainPhase, NonFiniteStepIsSkippedWhenAllowed) {
  TinyPhase t;
  t.pc.skip_nonfinite = 1;
  PoisonAtStep obj(*t.p, 3);
  std::vector<std::vector<float>> after;
  std::vector<bool> skipped;
  EXPECT_EQ(t.run(obj, after, skipped), "");
  ASSERT_EQ(after.size(), 5u);
  EXPECT_EQ(skipped, (std::vector<bool>{false, false, true, false, false}));
  EXPECT_TRUE(after[2] == after[1]) << "the skipped step must not update the weights";
  EXPECT_FALSE(after[3] == after[2]) << "the next step updates again";
  for (float x : after[4]) EXPECT_TRUE(std::isfinite(x));

  TinyPhase t2;
  t2.pc.skip_nonfinite = 1;
  PoisonAtStep obj2(*t2.p, 3, 4);  // two in a row
  after.clear(), skipped.clear();
  const std::string msg = t2.run(obj2, after, skipped);
  EXPECT_NE(msg.find("phase distill step 4: the gradient norm is nan"), std::string::npos) << msg;
  EXPECT_NE(msg.find("the weights are those of step 2 (1 steps skipped in a row before it)"), std::string::npos) << msg;
  ASSERT_EQ(after.size(), 3u);
  EXPECT_TRUE(t2.m.weights.at("a").data == after[1]);
}

TEST(TrainPhase, NonFiniteGradientStopsBeforeTheUpdate) {
  TinyPhase t;  // skip_nonfinite 0: the first non-finite step stops the phase
  PoisonAtStep obj(*t.p, 3);  // one micro-batch per step: call 3 is step 3
  std::vector<std::vector<float>> after;
  std::vector<bool> skipped;
  const std::string msg = t.run(obj, after, skipped);
  EXPECT_NE(msg.find("phase distill step 3: the gradient norm is nan"), std::string::npos) << msg;
  ASSERT_EQ(after.size(), 2u);
  ASSERT_EQ(after[1].size(), 12u);
  EXPECT_TRUE(t.m.weights.at("a").data == after[1]) << "the poisoned step must not update the weights";
  for (float x : t.m.weights.at("a").data) EXPECT_TRUE(std::isfinite(x));
}

// The allowance is part of the saved phase (a resume keeps it); a run saved
// before the flag existed reads as 0 (stop at the first non-finite step).
TEST(TrainPhase, SkipNonfiniteIsSavedWithThePhase) {
  PhaseConfig p = RunConfig::paper_phases()[1];
  p.skip_nonfinite = 3;
  nlohmann::json j = to_json(p);
  EXPECT_EQ(phase_from_json(j).skip_nonfinite, 3);
  j.erase("skip_nonfinite");
  EXPECT_EQ(phase_from_json(j).skip_nonfinite, 0);
}

}  // namespace radlads
