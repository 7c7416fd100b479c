// A whole student on the CUDA backend's code (host emulation, "cuda-sim"):
// its weights uploaded (model_on_device), a training forward, the
// full-vocabulary KL to random teacher logits and the backward into a
// gradient arena in device memory, against the same on the CPU backend —
// logits, loss and every parameter gradient. Device memory is PROT_NONE to
// the host outside the backend's own calls (gpu_sim/host_runtime.h), so a
// model path that reads or writes it directly crashes this test.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "backend/gpu_ops_cases.h"
#include "backend/gpu_sim/sim_backend.h"
#include "models/device_model.h"
#include "models/random_student.h"
#include "models/student.h"
#include "models/time_mix.h"

namespace radlads {
namespace {

struct Case {
  const char* name;
  test::StudentSpec spec;
};

class StudentOnGpuSim : public ::testing::TestWithParam<Case> {};

TEST_P(StudentOnGpuSim, LogitsLossAndEveryGradientMatchTheCpu) {
  const Backend& cpu = cpu_backend();
  const Backend& sim = test::sim_backend();
  const Model m = test::random_student(GetParam().spec, 11);
  const int B = 2, T = 7;
  const int64_t M = B * T, V = m.cfg.n_vocab;
  std::mt19937_64 rng(5);
  std::vector<int32_t> tokens(static_cast<size_t>(M));
  for (auto& t : tokens) t = int32_t(rng() % uint64_t(V));
  const auto teacher = test::randn(size_t(M * V), 6, 2.0f);

  std::vector<float> logits(size_t(M * V)), d(size_t(M * V));
  Arena g = make_grad_arena(m, [](const std::string&) { return true; });
  double loss = 0;
  {
    Student s(cpu, m);
    s.forward_train(tokens.data(), B, T, logits.data());
    loss = cpu.kl_divergence(d.data(), logits.data(), teacher.data(), M, V, 1.0f / float(M));
    s.backward(d.data(), &g);
  }

  const Model dm = model_on_device(m, sim);
  Arena dg = test::arena_like(g, sim);
  test::DevVec<int32_t> tok(sim, tokens);
  test::DevVec<float> tl(sim, teacher), lg(sim, size_t(M * V)), dd(sim, size_t(M * V));
  double dloss = 0;
  {
    Student s(sim, dm);
    s.forward_train(tok.p, B, T, lg.p);
    dloss = sim.kl_divergence(dd.p, lg.p, tl.p, M, V, 1.0f / float(M));
    s.backward(dd.p, &dg);
  }
  EXPECT_LT(test::rel_err(lg.get(), logits), 1e-5);
  EXPECT_NEAR(dloss, loss, 1e-5 * std::abs(loss));
  EXPECT_GT(test::expect_arenas_close(g, dg, sim, 1e-4), 10);
}

INSTANTIATE_TEST_SUITE_P(Tiny, StudentOnGpuSim,
                         ::testing::Values(Case{"v6", {StudentArch::RWKV6, "qwen2", 0, 1, 1, 0, 0}},
                                           Case{"v7", {StudentArch::RWKV7, "qwen2", 1, 0, 1, 0, 0}},
                                           Case{"v7_gn_hybrid", {StudentArch::RWKV7, "qwen2", 1, 0, 0, 1, 1}},
                                           Case{"v6_hybrid_llama", {StudentArch::RWKV6, "llama", 1, 1, 0, 1, 1}}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace radlads
