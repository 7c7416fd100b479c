// Steps 1 and 2 on the CUDA backend's code (host emulation, "cuda-sim"):
// the alignment objective (teacher forward with per-layer hooks, every time
// mix's L2 loss and backward) and the distillation objective (teacher and
// student forwards, KL and cross-entropy over row blocks, student backward),
// on models uploaded with model_on_device and gradient arenas in device
// memory, against the same objectives on the CPU backend; then three whole
// optimiser steps of step 2 (train_phase: gradient accumulation, norm, clip,
// AdamW with its moments in device memory), weights compared after.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "backend/gpu_ops_cases.h"
#include "backend/gpu_sim/sim_backend.h"
#include "models/device_model.h"
#include "models/random_student.h"
#include "models/time_mix.h"
#include "data/windows.h"
#include "train/adamw.h"
#include "train/objective.h"
#include "train/param_set.h"
#include "train/trainer.h"
#include "train_fixture.h"

namespace radlads {
namespace {

// Loss and every gradient of one accumulate() on the CPU and on the sim.
void compare(const Model& teacher, const Model& student,
             const std::function<std::unique_ptr<Objective>(const Backend&, const Model&, const Model&)>& make,
             const std::function<bool(const std::string&)>& trainable) {
  const Backend& cpu = cpu_backend();
  const Backend& sim = test::sim_backend();
  const int B = 2, T = 6;
  std::mt19937_64 rng(9);
  std::vector<int32_t> windows(size_t(B) * (T + 1));
  for (auto& t : windows) t = int32_t(rng() % uint64_t(student.cfg.n_vocab));

  Arena g = make_grad_arena(student, trainable);
  auto obj = make(cpu, teacher, student);
  const ObjectiveLoss want = obj->accumulate(windows.data(), B, T, 0.5f, &g);

  const Model dt = model_on_device(teacher, sim), ds = model_on_device(student, sim);
  Arena dg = test::arena_like(g, sim);
  auto dobj = make(sim, dt, ds);
  const ObjectiveLoss got = dobj->accumulate(windows.data(), B, T, 0.5f, &dg);

  EXPECT_EQ(got.rows, want.rows);
  EXPECT_NEAR(got.sum, want.sum, 1e-5 * std::abs(want.sum));
  ASSERT_EQ(got.layer_sum.size(), want.layer_sum.size());
  for (size_t l = 0; l < want.layer_sum.size(); l++)
    EXPECT_NEAR(got.layer_sum[l], want.layer_sum[l], 1e-5 * std::abs(want.layer_sum[l]) + 1e-12) << "layer " << l;
  EXPECT_GT(test::expect_arenas_close(g, dg, sim, 1e-4), 5);
}

class ObjectivesOnGpuSim : public ::testing::TestWithParam<test::StudentSpec> {};

TEST_P(ObjectivesOnGpuSim, AlignmentMatchesTheCpu) {
  const Model student = test::random_student(GetParam(), 21);
  const Model teacher = open_model(test::golden_model(GetParam().teacher));
  compare(
      teacher, student,
      [](const Backend& be, const Model& t, const Model& s) { return make_align_objective(be, t, s); },
      [&](const std::string& name) { return is_time_mix_param(student, name); });
}

TEST_P(ObjectivesOnGpuSim, DistillationMatchesTheCpu) {
  const Model student = test::random_student(GetParam(), 22);
  const Model teacher = open_model(test::golden_model(GetParam().teacher));
  compare(
      teacher, student,
      [](const Backend& be, const Model& t, const Model& s) {
        return make_distill_objective(be, &t, s, /*kl=*/1.0, /*ce=*/0.25);
      },
      [](const std::string&) { return true; });
}

// Three steps of step 2 from the same weights on both backends.
TEST_P(ObjectivesOnGpuSim, ThreeDistillationStepsEndOnTheSameWeights) {
  test::TempDir tmp;
  test::write_random_binidx(tmp.file("train"), 4, 60, 200, 3);
  const TokenDataset data = TokenDataset::open(tmp.file("train"));
  PhaseConfig pc;
  pc.name = "distill";
  pc.seq_len = 6, pc.batch = 4, pc.micro_batch = 2;
  pc.tokens = 3 * pc.tokens_per_step();
  pc.lr.total_steps = 3, pc.lr.warmup_steps = 0;
  pc.clip = 0.5;  // active: the clip's scale is part of what is compared
  const Model teacher = open_model(test::golden_model(GetParam().teacher));
  auto run = [&](const Backend& be, Model& s, const Model& t) {
    ParamSet p(be, s, [](const std::string&) { return true; });
    AdamW opt(p, AdamWConfig{});
    auto obj = make_distill_objective(be, &t, s, 1.0, 0.0);
    WindowSampler sampler(data, pc.seq_len + 1, 1);
    std::vector<double> norms;
    train_phase(ExecContext::local(1), pc, *obj, p, opt, sampler, 0,
                [&](const StepReport& r) { norms.push_back(r.grad_norm); });
    return norms;
  };
  Model cs = test::random_student(GetParam(), 23);
  const Model dt = model_on_device(teacher, test::sim_backend());
  Model ds = model_on_device(cs, test::sim_backend());
  const auto want = run(cpu_backend(), cs, teacher);
  const auto got = run(test::sim_backend(), ds, dt);
  ASSERT_EQ(got.size(), 3u);
  for (size_t i = 0; i < want.size(); i++) EXPECT_NEAR(got[i], want[i], 1e-4 * want[i]) << "step " << i + 1;
  for (const auto& [name, w] : cs.weights) {
    std::vector<float> d(size_t(w.numel()));
    test::sim_backend().to_host(d.data(), ds.weights.at(name).ptr(), d.size() * sizeof(float));
    EXPECT_LT(test::rel_err(d, std::vector<float>(w.data.begin(), w.data.end())), 1e-5) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Tiny, ObjectivesOnGpuSim,
                         ::testing::Values(test::StudentSpec{StudentArch::RWKV6, "qwen2", 0, 1, 1, 0, 0},
                                           test::StudentSpec{StudentArch::RWKV7, "qwen2", 1, 0, 1, 0, 1}),
                         [](const auto& info) { return std::string(info.index == 0 ? "v6" : "v7_hybrid"); });

}  // namespace
}  // namespace radlads
