// The teacher against an independent numpy implementation (scripts/
// golden_tiny_teacher.py), KV-cache decode against full prefill, batching, and
// GGUF export round trips.
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "backend/backend.h"
#include "export/gguf_teacher.h"
#include "infer/language_model.h"
#include "models/teacher.h"
#include "models/golden_models.h"
#include "test_util.h"

namespace radlads {
using namespace test;


class TeacherGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(TeacherGolden, LogitsMatchNumpy) {
  const std::string name = GetParam();
  auto lm = open_language_model(cpu_backend(), golden_model(name));
  auto ids = golden_tokens(name);
  auto want = golden_logits(name);
  ASSERT_EQ(want.size(), ids.size() * size_t(lm->n_vocab()));
  std::vector<float> got(want.size());
  lm->score(ids.data(), 1, int(ids.size()), got.data());
  // fp32 compute vs float64 numpy through 2 layers: ~1e-6 relative expected.
  EXPECT_LT(rel_err(got, want), 2e-5);
}

TEST_P(TeacherGolden, DecodeStepsEqualPrefill) {
  auto lm = open_language_model(cpu_backend(), golden_model(GetParam()));
  auto ids = golden_tokens(GetParam());
  const int T = int(ids.size()), V = lm->n_vocab();
  std::vector<float> full(size_t(T) * V);
  lm->score(ids.data(), 1, T, full.data());
  // Prefill 5 tokens, then one at a time: each step's logits equal the full forward's row.
  auto st = lm->new_state(T);
  std::vector<float> step(static_cast<size_t>(V));
  st->feed(ids.data(), 5, step.data());
  std::vector<float> row(full.begin() + 4 * V, full.begin() + 5 * V);
  EXPECT_LT(rel_err(step, row), 1e-5);
  for (int t = 5; t < T; t++) {
    st->feed(&ids[size_t(t)], 1, step.data());
    std::vector<float> r(full.begin() + int64_t(t) * V, full.begin() + int64_t(t + 1) * V);
    EXPECT_LT(rel_err(step, r), 1e-5) << "t=" << t;
  }
  EXPECT_EQ(st->n_past(), T);
}

TEST_P(TeacherGolden, BatchEqualsSeparateSequences) {
  auto lm = open_language_model(cpu_backend(), golden_model(GetParam()));
  auto ids = golden_tokens(GetParam());
  const int T = 11, V = lm->n_vocab();
  std::vector<int32_t> two(ids.begin(), ids.begin() + 2 * T);
  std::vector<float> both(size_t(2 * T) * V), one(size_t(T) * V);
  lm->score(two.data(), 2, T, both.data());
  lm->score(two.data() + T, 1, T, one.data());
  std::vector<float> second(both.begin() + int64_t(T) * V, both.end());
  EXPECT_LT(rel_err(second, one), 1e-6);
}

TEST_P(TeacherGolden, ExportF32RoundTripIsExact) {
  Model m = open_model(golden_model(GetParam()));
  TempDir tmp;
  export_teacher_gguf(m, tmp.file("out.gguf"), GgmlType::F32);
  Model back = open_model(tmp.file("out.gguf"));
  // GGUF stores rope_theta and rms_eps as f32: equal up to float rounding.
  auto a = back.cfg.to_json(), b = m.cfg.to_json();
  for (const char* k : {"rms_eps", "rope_theta"}) {
    EXPECT_NEAR(a[k].get<double>(), b[k].get<double>(), 1e-7 * b[k].get<double>()) << k;
    a.erase(k);
    b.erase(k);
  }
  EXPECT_EQ(a, b);
  ASSERT_EQ(back.weights.size(), m.weights.size());
  for (auto& [name, t] : m.weights) {
    ASSERT_TRUE(back.find(name)) << name;
    EXPECT_EQ(back.w(name).shape, t.shape) << name;
    EXPECT_EQ(back.w(name).data, t.data) << name;  // bit-exact, q/k permuted and back
  }
  EXPECT_EQ(back.tokenizer.tokens, m.tokenizer.tokens);
  // Re-export of the re-import is byte-identical.
  export_teacher_gguf(back, tmp.file("again.gguf"), GgmlType::F32);
  EXPECT_EQ(read_text_file(tmp.file("out.gguf")), read_text_file(tmp.file("again.gguf")));
}

TEST_P(TeacherGolden, ExportQ8StaysClose) {
  Model m = open_model(golden_model(GetParam()));
  TempDir tmp;
  export_teacher_gguf(m, tmp.file("q8.gguf"), GgmlType::Q8_0);
  Model back = open_model(tmp.file("q8.gguf"));
  for (auto& [name, t] : m.weights) EXPECT_LT(rel_err(back.w(name).data, t.data), 1e-2) << name;
}

INSTANTIATE_TEST_SUITE_P(Tiny, TeacherGolden, ::testing::Values("qwen2", "llama"));

TEST(TeacherLayout, PermuteRoundTrip) {
  Tensor t({12, 3});
  for (size_t i = 0; i < t.data.size(); i++) t.data[i] = float(i);
  Tensor u = t;
  permute_qk_hf_to_gguf(u, 3);
  EXPECT_NE(u.data, t.data);
  // HF row h*N + j*N/2 + i sits at GGUF row h*N + 2i + j (N = 4): HF row 2 (h0, j1, i0) -> GGUF row 1.
  EXPECT_EQ(u.data[1 * 3], t.data[2 * 3]);
  unpermute_qk_gguf_to_hf(u, 3);
  EXPECT_EQ(u.data, t.data);
}

}  // namespace radlads

namespace radlads {

// The benchmarks' teachers at a real shape without a file (bench_gpu_train):
// every tensor of the config, packed, norms at 1, the rest small and not
// all equal, and the golden teacher's config gives the golden teacher's table.
TEST(RandomTeacher, HasEveryTensorOfItsConfigPacked) {
  const Model golden = open_model(test::golden_model("qwen2"));
  const Model m = random_teacher(golden.cfg, 3);
  validate_teacher_weights(m);
  ASSERT_TRUE(m.params);
  EXPECT_EQ(m.weights.size(), golden.weights.size());
  for (const auto& [name, t] : m.weights) {
    EXPECT_EQ(t.shape, golden.w(name).shape) << name;
    float lo = 1e9f, hi = -1e9f;
    for (float x : t.data) lo = std::min(lo, x), hi = std::max(hi, x);
    if (name.ends_with("norm.weight")) {
      EXPECT_EQ(lo, 1.0f) << name;
      EXPECT_EQ(hi, 1.0f) << name;
    } else {
      EXPECT_LT(lo, 0.0f) << name;
      EXPECT_GT(hi, 0.0f) << name;
      EXPECT_LE(std::max(-lo, hi), 0.0347f) << name;
    }
  }
}

}  // namespace radlads
