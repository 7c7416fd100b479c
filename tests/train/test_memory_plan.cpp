// The memory plan's terms against what the code really takes: the student's
// training Workspace (its own high-water measure) with and without recompute
// for every student variant, and the parameter counts against the models
// built by step 0. A take added to a mixer without its plan term fails here.
#include <gtest/gtest.h>

#include "backend/backend.h"
#include "core/arena.h"
#include "models/random_student.h"
#include "models/student.h"
#include "train/memory_plan.h"
#include "train/param_set.h"

namespace radlads {
using namespace test;

namespace {

const StudentSpec kSpecs[] = {
    {StudentArch::RWKV6, "qwen2", 0, 1, 1, 0, 0}, {StudentArch::RWKV6, "llama", 1, 0, 0, 0, 0},
    {StudentArch::RWKV7, "qwen2", 1, 0, 1, 0, 0}, {StudentArch::RWKV7, "llama", 0, 0, 0, 1, 0},
    {StudentArch::RWKV7, "qwen2", 1, 0, 1, 0, 1}, {StudentArch::RWKV6, "qwen2", 0, 1, 1, 0, 1},
    {StudentArch::RWKV6, "llama", 1, 1, 0, 1, 0},
    // the other output gates (the reference's gate_rank_type): low-rank and none on v6, full and none on v7
    {StudentArch::RWKV6, "qwen2", 0, 1, 1, 0, 0, 2}, {StudentArch::RWKV6, "llama", 0, 1, 1, 1, 0, 0},
    {StudentArch::RWKV7, "qwen2", 1, 0, 1, 0, 0, 1}, {StudentArch::RWKV7, "llama", 0, 0, 0, 1, 1, 0},
};

}  // namespace

TEST(MemoryPlan, StudentActivationsEqualTheWorkspaceMeasure) {
  for (const StudentSpec& spec : kSpecs) {
    Model m = random_student(spec, 3);
    for (bool recompute : {false, true}) {
      const int B = 2, T = 16;  // rows a multiple of 16: no alignment padding in any take
      const int64_t M = B * T, V = m.cfg.n_vocab;
      std::vector<int32_t> tokens(static_cast<size_t>(M));
      for (int64_t i = 0; i < M; i++) tokens[size_t(i)] = int32_t((i * 13 + 1) % V);
      Arena g = make_grad_arena(m, [](const std::string&) { return true; });
      Student s(cpu_backend(), m);
      s.set_recompute(recompute);
      s.forward_train(tokens.data(), B, T, nullptr);
      std::vector<float> d(static_cast<size_t>(M * V), 1e-3f);
      s.head_backward_rows(d.data(), 0, M, &g);
      s.backward_hidden(&g);
      EXPECT_EQ(s.workspace_high_water(),
                size_t(Student::train_workspace_floats(m.cfg, m.student, B, T, recompute)) * sizeof(float))
          << m.student.arch_name() << " " << spec.teacher << " hybrid " << spec.attention_layers << " recompute "
          << recompute;
    }
  }
}

TEST(MemoryPlan, ParameterCountsEqualTheModels) {
  for (const StudentSpec& spec : kSpecs) {
    Model m = random_student(spec, 4);
    Model t = open_model(golden_model(spec.teacher));
    const ParamCounts p = param_counts(t.cfg, m.student);  // the teacher's sizes (a tied head) with the student's options
    EXPECT_EQ(p.teacher, t.n_params()) << spec.teacher;
    int64_t all = 0, time_mix = 0;
    for (const auto& [name, w] : m.weights) {
      all += w.numel();
      if (is_time_mix_param(m, name)) time_mix += w.numel();
    }
    EXPECT_EQ(p.student, all) << m.student.arch_name();
    EXPECT_EQ(p.student_time_mix, time_mix) << m.student.arch_name();
  }
}

TEST(MemoryPlan, RecomputeAutoFollowsTheBudget) {
  Model m = random_student(kSpecs[2], 5);
  MemoryPlanSetup s{m.cfg, m.student};
  PhaseConfig pc;
  pc.name = "extend";
  pc.seq_len = 4096;
  pc.batch = 1;
  pc.ce_weight = 1;
  const int64_t without = plan_phase(s, pc, false).total(), with = plan_phase(s, pc, true).total();
  ASSERT_LT(with, without);
  EXPECT_FALSE(resolve_recompute("auto", s, pc, without + 1));
  EXPECT_TRUE(resolve_recompute("auto", s, pc, without - 1));
  EXPECT_TRUE(resolve_recompute("on", s, pc, without * 10));
  EXPECT_THROW(resolve_recompute("maybe", s, pc, 0), Error);
}

}  // namespace radlads
