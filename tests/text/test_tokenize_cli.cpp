// `radlads tokenize` on the real teacher: output formats, --no-special, and
// one-line errors with exit status 2.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "test_util.h"

namespace radlads {
namespace {

TEST(TokenizeCli, IdsAndPieces) {
  const std::string model = test::teacher_path();
  test::RunResult r = test::run_cli("tokenize " + model + " --text 'Hello world' --ids");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "19556 905\n");

  test::TempDir d;
  const std::string f = d.file("in.txt");
  std::ofstream(f, std::ios::binary) << "<|im_start|>hi\n\t\\ \xE4\xB8\xAD\xFF";
  r = test::run_cli("tokenize " + model + " --file " + f);
  EXPECT_EQ(r.status, 0) << r.out;
  // One "id<TAB>piece" line per token; newline, tab, backslash escaped.
  EXPECT_EQ(r.out.rfind("1\t<|im_start|>\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\t\\n\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\\t"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\\\\"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("24211\t\xEF\xBF\xBD\n"), std::string::npos) << r.out;  // 0xFF became U+FFFD

  r = test::run_cli("tokenize " + model + " --file " + f + " --ids --no-special");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.rfind("44 108 306 79 3738 108 46 ", 0), 0u) << r.out;  // "<|im_start|>" as text
}

TEST(TokenizeCli, Errors) {
  const std::string model = test::teacher_path();
  test::RunResult r = test::run_cli("tokenize " + model);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("give --text or --file"), std::string::npos) << r.out;
  r = test::run_cli("tokenize /nonexistent/model.gguf --text hi");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("/nonexistent/model.gguf"), std::string::npos) << r.out;
  r = test::run_cli("tokenize " + model + " --text a --file b");
  EXPECT_EQ(r.status, 2) << r.out;
}

}  // namespace
}  // namespace radlads
