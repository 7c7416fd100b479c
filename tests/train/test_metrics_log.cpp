// The JSONL metrics log: append and read back, a torn last line from a kill,
// resume repair, and cutting the lines written after a checkpoint.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.h"
#include "test_util.h"
#include "train/metrics_log.h"

namespace radlads {
namespace {

using nlohmann::json;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

json rec(const std::string& phase, int step) {
  return {{"phase", phase}, {"step", step}, {"tokens", step * 100}, {"loss", 5.0 / (step + 1)}};
}

// The steps of the records of one phase, in file order.
std::vector<int> steps_of(const std::vector<json>& rs, const std::string& phase) {
  std::vector<int> out;
  for (const json& r : rs)
    if (r.value("phase", "") == phase) out.push_back(r.value("step", -1));
  return out;
}

TEST(MetricsLog, AppendAndRead) {
  test::TempDir d;
  const std::string p = d.file("m.jsonl");
  {
    MetricsLog log(p, false, /*sync_every=*/2);
    for (int s = 1; s <= 3; ++s) log.append(rec("align", s));
    json with_nan = rec("align", 4);
    with_nan["loss"] = NAN;  // must stay a valid line (null), not break the log
    with_nan["layer_loss"] = {0.5, 0.25};
    log.append(with_nan);
    // Each line is flushed at once: a reader sees it before close.
    EXPECT_EQ(read_metrics(p).size(), 4u);
  }
  const std::vector<json> rs = read_metrics(p);
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[0]["phase"], "align");
  EXPECT_EQ(rs[2]["step"], 3);
  EXPECT_DOUBLE_EQ(rs[1]["loss"].get<double>(), 5.0 / 3);
  EXPECT_TRUE(rs[3]["loss"].is_null());
  EXPECT_EQ(rs[3]["layer_loss"].size(), 2u);
  const std::string text = slurp(p);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);

  // resume = false starts a new log; resume = true appends.
  { MetricsLog log(p, true); log.append(rec("distill", 1)); }
  EXPECT_EQ(read_metrics(p).size(), 5u);
  { MetricsLog log(p, false); log.append(rec("align", 1)); }
  EXPECT_EQ(read_metrics(p).size(), 1u);
}

TEST(MetricsLog, TornLastLineDropped) {
  test::TempDir d;
  const std::string p = d.file("m.jsonl");
  const std::string good = rec("align", 1).dump() + "\n" + rec("align", 2).dump() + "\n";
  spit(p, good + R"({"phase":"align","step":3,"lo)");
  EXPECT_EQ(steps_of(read_metrics(p), "align"), (std::vector<int>{1, 2}));
  spit(p, good + "\n\n");  // blank lines are not records
  EXPECT_EQ(read_metrics(p).size(), 2u);
  spit(p, good + std::string(7, '\0'));  // the zero tail a crash can leave
  EXPECT_EQ(read_metrics(p).size(), 2u);

  // A bad line that is not the torn tail is an error naming path:line.
  spit(p, rec("align", 1).dump() + "\n{oops\n" + rec("align", 3).dump() + "\n");
  try {
    read_metrics(p);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(p + ":2:"), std::string::npos) << e.what();
  }
  // A terminated last line that does not parse was not torn: also an error.
  spit(p, good + "[1,2]\n");
  EXPECT_THROW(read_metrics(p), Error);
  EXPECT_THROW(read_metrics(d.file("missing.jsonl")), Error);
}

TEST(MetricsLog, ResumeRepairsTornTail) {
  test::TempDir d;
  const std::string p = d.file("m.jsonl");
  spit(p, rec("align", 1).dump() + "\n" + R"({"phase":"al)");
  { MetricsLog log(p, true); log.append(rec("align", 2)); }
  EXPECT_EQ(steps_of(read_metrics(p), "align"), (std::vector<int>{1, 2}));
  // A complete last record that only lost its newline is kept.
  spit(p, rec("align", 1).dump());
  { MetricsLog log(p, true); log.append(rec("align", 2)); }
  EXPECT_EQ(steps_of(read_metrics(p), "align"), (std::vector<int>{1, 2}));
  // Resuming a log that does not exist yet creates it.
  { MetricsLog log(d.file("new.jsonl"), true); log.append(rec("align", 1)); }
  EXPECT_EQ(read_metrics(d.file("new.jsonl")).size(), 1u);
}

TEST(MetricsLog, TruncateAfterStep) {
  test::TempDir d;
  const std::string p = d.file("m.jsonl");
  {
    MetricsLog log(p, false);
    log.append({{"phase", "eval"}, {"of", "init"}, {"heldout_kl", 3.0}});
    for (int s = 1; s <= 10; ++s) log.append(rec("align", s));
    log.append({{"phase", "eval"}, {"of", "align"}, {"heldout_kl", 1.0}});
    for (int s = 1; s <= 8; ++s) log.append(rec("distill", s));
  }
  // Resume distill at 5: align and its evals stay, distill 6..8 go.
  EXPECT_EQ(truncate_after_step(p, "distill", 5), 17u);
  std::vector<json> rs = read_metrics(p);
  EXPECT_EQ(steps_of(rs, "align").size(), 10u);
  EXPECT_EQ(steps_of(rs, "distill"), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(steps_of(rs, "eval").size(), 2u);

  // A torn tail goes too, and a step equal to the checkpoint's is kept.
  { std::ofstream(p, std::ios::app | std::ios::binary) << R"({"phase":"dis)"; }
  EXPECT_EQ(truncate_after_step(p, "distill", 5), 17u);
  EXPECT_EQ(steps_of(read_metrics(p), "distill").back(), 5);
  EXPECT_EQ(slurp(p).back(), '\n');

  // Resume align at 7: everything after align 7 was written after that
  // checkpoint (align 8.., its eval, the whole distill phase).
  EXPECT_EQ(truncate_after_step(p, "align", 7), 8u);
  rs = read_metrics(p);
  EXPECT_EQ(steps_of(rs, "align"), (std::vector<int>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(steps_of(rs, "distill").empty());
  ASSERT_EQ(steps_of(rs, "eval").size(), 1u);
  EXPECT_EQ(rs[0]["of"], "init");

  // Resume align at its last step (7) after distill had started: distill goes.
  { MetricsLog log(p, true); log.append(rec("distill", 1)); }
  EXPECT_EQ(truncate_after_step(p, "align", 7), 8u);
  // An eval of the resumed phase inherits it: an eval logged after step 7
  // without "of" belongs to align and survives only if its step <= 7.
  {
    MetricsLog log(p, true);
    log.append({{"phase", "eval"}, {"step", 7}, {"heldout_kl", 1.5}});
    log.append({{"phase", "eval"}, {"step", 9}, {"heldout_kl", 1.2}});
  }
  EXPECT_EQ(truncate_after_step(p, "align", 7), 9u);
  EXPECT_EQ(truncate_after_step(d.file("missing.jsonl"), "align", 1), 0u);
  EXPECT_FALSE(std::filesystem::exists(d.file("missing.jsonl")));
  // No leftover temporary file from the atomic rewrite.
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(d.path)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace radlads
