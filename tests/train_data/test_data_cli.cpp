// radlads data prepare / inspect end to end with the real teacher's
// tokenizer: counts in the JSON line, and bad input giving exit status 2, a
// line naming the file, and no output folder.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "data/binidx.h"
#include "data_test_util.h"

namespace radlads {
namespace {

using test::TempDir;


TEST(DataCli, PrepareThenInspect) {
  TempDir tmp;
  const std::string model = test::teacher_path();
  std::string jsonl;
  for (int i = 0; i < 5; ++i) jsonl += "{\"text\": \"Document number " + std::to_string(i) + " is short.\"}\n";
  test::write_file(tmp.file("docs.jsonl"), jsonl);
  test::write_gz(tmp.file("long.txt.gz"), "A longer plain text document.\nIt has two lines.\n");
  auto r = test::run_cli_stdout("data prepare --tokenizer " + model + " --out " + tmp.file("out") +
                                " --heldout-every 3 --json " + tmp.file("docs.jsonl") + " " + tmp.file("long.txt.gz"));
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);  // with --json stdout is exactly one document
  EXPECT_EQ(j["heldout_docs"], 2);  // documents 0 and 3 of 6
  EXPECT_EQ(j["train_docs"], 4);
  EXPECT_EQ(j["dtype"], "uint16");
  EXPECT_GT(j["tokens_per_s"].get<double>(), 0);
  const TokenDataset train = TokenDataset::open(tmp.file("out/train"));
  EXPECT_EQ(j["train_tokens"], train.n_tokens());

  r = test::run_cli_stdout("data inspect " + tmp.file("out") + " --tokens 8 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto k = nlohmann::json::parse(r.out);
  EXPECT_EQ(k["train"]["docs"], 4);
  EXPECT_EQ(k["heldout"]["tokens"], j["heldout_tokens"]);
  EXPECT_EQ(k["train"]["first_ids"].size(), 8u);
  // The report (stderr with --json, stdout without) decodes with the
  // tokenizer named in meta.json: document 1 is the first in train.
  r = test::run_cli("data inspect " + tmp.file("out") + " --tokens 8");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Document number 1"), std::string::npos) << r.out;
  r = test::run_cli("data inspect " + tmp.file("out/heldout.idx"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("2 documents"), std::string::npos) << r.out;
}

TEST(DataCli, BadInputExitsWithStatus2AndLeavesNothing) {
  TempDir tmp;
  const std::string model = test::teacher_path();
  test::write_file(tmp.file("a.txt"), "fine");
  test::write_file(tmp.file("b.jsonl"), "{\"text\": \"ok\"}\n{\"text\": \"ok\"}\n{\"txt\": \"oops\"}\n");
  std::filesystem::create_directories(tmp.file("exists"));
  test::write_file(tmp.file("junk.idx"), "MMIDIDX");
  test::write_file(tmp.file("junk.bin"), "");
  struct Case {
    std::string args, needle;
  };
  const std::string prep = "data prepare --tokenizer " + model + " --out ";
  const std::vector<Case> cases = {
      {prep + tmp.file("o") + " " + tmp.file("a.txt") + " " + tmp.file("b.jsonl"), tmp.file("b.jsonl") + ":3"},
      {prep + tmp.file("o") + " " + tmp.file("a.txt") + " " + tmp.file("missing.txt"), tmp.file("missing.txt")},
      {prep + tmp.file("o") + " " + tmp.file("a.txt"), "at least 2"},
      {prep + tmp.file("exists") + " " + tmp.file("a.txt"), tmp.file("exists")},
      {"data prepare --tokenizer " + tmp.file("a.txt") + " --out " + tmp.file("o") + " " + tmp.file("a.txt"),
       tmp.file("a.txt")},
      {"data prepare --out " + tmp.file("o") + " " + tmp.file("a.txt"), "--tokenizer"},
      {"data inspect " + tmp.file("junk"), tmp.file("junk.idx")},
      {"data inspect " + tmp.file("nothing"), tmp.file("nothing.idx")},
      {"data", "subcommand"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args);
    const auto r = test::run_cli(c.args);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find(c.needle), std::string::npos) << r.out;
  }
  EXPECT_EQ(test::list_tree(tmp.path),
            (std::vector<std::string>{"a.txt", "b.jsonl", "exists", "junk.bin", "junk.idx"}));
}

}  // namespace
}  // namespace radlads
