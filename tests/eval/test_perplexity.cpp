// Perplexity in row blocks through one decode state equals the mean NLL and
// top-1 taken from whole-window logits (LanguageModel::score), for the
// teacher and a student, whatever the block size.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/perplexity.h"
#include "infer/language_model.h"
#include "models/golden_models.h"
#include "models/random_student.h"

namespace radlads {
using namespace test;

namespace {

void check(LanguageModel& lm, const std::string& what) {
  std::vector<int32_t> ids = golden_tokens("qwen2");
  const std::vector<int32_t> base = ids;
  while (ids.size() < 40) ids.insert(ids.end(), base.begin(), base.end());
  const int ctx = 19, V = lm.n_vocab(), n_win = int(ids.size()) / ctx;
  double nll = 0;
  int64_t hits = 0, tokens = 0;
  std::vector<float> logits(size_t(ctx) * V);
  for (int w = 0; w < n_win; w++) {
    const int32_t* win = ids.data() + size_t(w) * ctx;
    lm.score(win, 1, ctx, logits.data());
    for (int t = 1; t < ctx; t++) {
      const float* row = logits.data() + size_t(t - 1) * V;
      nll -= log_prob(row, V, win[t]);
      hits += std::max_element(row, row + V) - row == win[t];
      tokens++;
    }
  }
  for (size_t rows : {size_t(1), size_t(5), size_t(19), size_t(64)}) {
    const PerplexityResult r = perplexity(lm, ids, ctx, {}, rows * sizeof(float) * size_t(V));
    EXPECT_EQ(r.tokens, tokens) << what;
    EXPECT_NEAR(r.nll, nll / double(tokens), 1e-5 * std::abs(nll / double(tokens))) << what << " rows " << rows;
    EXPECT_EQ(r.top1_hits, hits) << what << " rows " << rows;
  }
}

}  // namespace

TEST(Perplexity, RowBlocksEqualWholeWindowLogits) {
  auto teacher = make_language_model(cpu_backend(), open_model(golden_model("qwen2")));
  check(*teacher, "teacher");
  for (const StudentSpec& spec : {StudentSpec{StudentArch::RWKV6, "qwen2"}, StudentSpec{StudentArch::RWKV7, "qwen2", 1, 0, 1, 0, 1}}) {
    auto s = make_language_model(cpu_backend(), random_student(spec, 4));
    check(*s, s->model().student.arch_name());
  }
}

}  // namespace radlads
