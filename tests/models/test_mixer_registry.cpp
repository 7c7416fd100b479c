// Every registered student architecture (models/mixers/registry.cpp), checked
// through the registry alone, so that a new architecture is tested by being
// registered: its names resolve both ways, its options survive config.json,
// its step-0 student survives an HF folder, and its two forward paths (a
// window at once, token by token with the decode state) agree, plain and
// hybrid.
#include <gtest/gtest.h>

#include <cmath>

#include "infer/language_model.h"
#include "backend/backend.h"
#include "models/golden_models.h"
#include "models/hf_folder.h"
#include "models/mixers/mixer_arch.h"
#include "models/student_weights.h"
#include "test_util.h"

namespace radlads {
namespace {

TEST(MixerRegistry, NamesResolveBothWays) {
  ASSERT_GE(mixer_archs().size(), 2u);
  for (const MixerArch* a : mixer_archs()) {
    EXPECT_EQ(&mixer_arch(a->id), a) << a->name;
    EXPECT_EQ(&mixer_arch_by_name(a->name), a);
    EXPECT_EQ(mixer_arch_by_hf_type(a->hf_model_type), a);
    EXPECT_EQ(mixer_arch_by_gguf(a->gguf_arch), a);
    EXPECT_EQ(student_arch_from_name(a->name), a->id);
  }
  EXPECT_THROW(mixer_arch_by_name("rad-mamba"), Error);
  EXPECT_EQ(mixer_arch_by_hf_type("qwen2"), nullptr);
}

// Largest |a - b| relative to max |b|.
double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); i++) num = std::max(num, double(std::fabs(a[i] - b[i]))), den = std::max(den, double(std::fabs(b[i])));
  return num / std::max(den, 1e-30);
}

TEST(MixerRegistry, EveryArchitectureRoundTripsAndDecodesLikeItScores) {
  const Model t = open_model(test::golden_model("qwen2"));
  test::TempDir tmp;
  for (const MixerArch* a : mixer_archs())
    for (int attn : {0, 1}) {
      const std::string what = std::string(a->name) + (attn ? " hybrid" : "");
      StudentOptions o = StudentOptions::defaults(a->id, t.cfg);
      o.num_attention_layers = attn;
      // Step 0 zeroes many tensors; noise on every new one so that no path hides.
      Model s = init_student(t, o, 7);
      std::mt19937_64 rng(11);
      std::normal_distribution<float> n(0.0f, 0.05f);
      for (auto& spec : student_new_tensors(s.cfg, s.student))
        for (auto& x : s.weights[spec.name].data) x += n(rng);

      // Options through config.json, weights through an HF folder.
      const nlohmann::json j = student_config_json(s.cfg, s.student);
      EXPECT_EQ(j.at("model_type"), a->hf_model_type) << what;
      const StudentOptions back = student_options_from_json(j, "config.json");
      EXPECT_EQ(back.arch, a->id) << what;
      EXPECT_EQ(back.use_rope, o.use_rope) << what;
      EXPECT_EQ(back.num_attention_layers, attn) << what;
      const std::string dir = tmp.file(std::string(a->name) + std::to_string(attn));
      save_model_hf(s, dir);
      Model loaded = open_model(dir);
      ASSERT_EQ(loaded.weights.size(), s.weights.size()) << what;
      for (auto& [name, w] : s.weights) ASSERT_EQ(loaded.w(name).data, w.data) << what << " " << name;

      // A window scored at once == the same tokens fed one by one.
      auto lm = make_language_model(cpu_backend(), std::move(loaded));
      const int T = 9, V = lm->n_vocab();
      std::vector<int32_t> tokens(T);
      for (int i = 0; i < T; i++) tokens[size_t(i)] = int32_t((i * 37 + 11) % V);
      std::vector<float> all(size_t(T) * size_t(V)), last(static_cast<size_t>(V));
      lm->score(tokens.data(), 1, T, all.data());
      auto st = lm->new_state(T);
      for (int i = 0; i < T; i++) {
        st->feed(&tokens[size_t(i)], 1, last.data());
        const std::vector<float> want(all.begin() + int64_t(i) * V, all.begin() + int64_t(i + 1) * V);
        // fp32, different summation orders (chunked window kernels vs the
        // one-token step): agreement to ~1e-5 of the logits' scale.
        EXPECT_LT(rel_err(last, want), 2e-4) << what << " token " << i;
      }
      EXPECT_GT(st->state_bytes(), 0u) << what;
    }
}

}  // namespace
}  // namespace radlads
