// The memory plan at the command line: --dry-run prints every step's plan as
// one JSON document and writes nothing; a run whose plan exceeds the budget
// stops before loading anything, with exit 2, one line naming the step and the
// numbers, and no run folder; --ignore-memory-plan runs it anyway.
#include <gtest/gtest.h>

#include <filesystem>

#include "train_fixture.h"

namespace radlads {
using namespace test;

namespace {

std::string args(const std::string& data, const std::string& out) {
  return tiny_convert(data, out) +
         " --step1-tokens 64 --step2-tokens 64 --step3-tokens 64 --step3-seq-len 32 --seq-len 16 --batch 2"
         " --heldout-windows 1 --heldout-len 16";
}

}  // namespace

TEST(ConvertMemory, DryRunPrintsThePlanAndWritesNothing) {
  TempDir tmp;
  const std::string data = tiny_data(tmp), out = tmp.file("out");
  auto r = run_cli_stdout(args(data, out) + " --dry-run --recompute on --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("memory_plan").size(), 3u);
  for (const nlohmann::json& p : j.at("memory_plan")) {
    int64_t sum = 0;
    for (const nlohmann::json& i : p.at("items")) sum += i.at("bytes").get<int64_t>();
    EXPECT_EQ(sum, p.at("total_bytes").get<int64_t>());
    EXPECT_EQ(p.at("recompute").get<bool>(), p.at("phase") != "align");
  }
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(ConvertMemory, OverBudgetStopsAtOnceUnlessOverridden) {
  TempDir tmp;
  const std::string data = tiny_data(tmp), out = tmp.file("out");
  auto r = run_cli(args(data, out) + " --memory-budget 0.01");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("needs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--ignore-memory-plan"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(out));
  r = run_cli(args(data, out) + " --memory-budget 0.01 --ignore-memory-plan");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(out + "/student/config.json"));
}

}  // namespace radlads
