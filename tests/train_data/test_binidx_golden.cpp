// Binidx against an independent numpy implementation (scripts/golden_binidx.py,
// written from the Megatron / RWKV-LM format description): we read what it
// writes, and it reads what we write. numpy is installed by scripts/setup.sh;
// without it these tests fail rather than skip.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "data/binidx.h"
#include "data_test_util.h"

namespace radlads {
namespace {

using test::TempDir;

std::string script() { return std::string("python3 ") + RADLADS_SOURCE_DIR + "/scripts/golden_binidx.py"; }

int sh(const std::string& cmd) {
  const int st = std::system((cmd + " 2>&1").c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

class BinidxGolden : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    ASSERT_EQ(sh("python3 -c 'import numpy'"), 0) << "python3 with numpy is required: run scripts/setup.sh";
  }
};

TEST_P(BinidxGolden, ReadsPythonWritten) {
  TempDir tmp;
  const std::string prefix = tmp.file("py");
  ASSERT_EQ(sh(script() + " write " + prefix + " " + GetParam() + " 7"), 0);
  const auto want = nlohmann::json::parse(read_text_file(prefix + ".json"));
  const TokenDataset ds = TokenDataset::open(prefix);
  EXPECT_STREQ(dtype_name(ds.dtype()), GetParam());
  ASSERT_EQ(ds.n_docs(), int64_t(want["docs"].size()));
  std::vector<int32_t> all;
  for (size_t i = 0; i < want["docs"].size(); ++i) {
    const auto d = want["docs"][i].get<std::vector<int32_t>>();
    EXPECT_EQ(ds.doc(int64_t(i)), d) << "doc " << i;
    all.insert(all.end(), d.begin(), d.end());
  }
  ASSERT_EQ(ds.n_tokens(), int64_t(all.size()));
  ASSERT_GT(all.size(), 300u);
  // The flat stream, across the documents' boundaries, as the trainer reads it.
  std::vector<int32_t> got(all.size());
  ds.read(0, int64_t(all.size()), got.data());
  EXPECT_EQ(got, all);
  std::vector<int32_t> mid(10);
  ds.read(2, 10, mid.data());
  EXPECT_EQ(mid, std::vector<int32_t>(all.begin() + 2, all.begin() + 12));
}

TEST_P(BinidxGolden, PythonReadsOurs) {
  TempDir tmp;
  // Let Python pick the documents, write them with our writer, let Python check.
  ASSERT_EQ(sh(script() + " write " + tmp.file("py") + " " + GetParam() + " 11"), 0);
  const auto want = nlohmann::json::parse(read_text_file(tmp.file("py.json")));
  const TokenDtype dt = TokenDataset::open(tmp.file("py")).dtype();
  {
    BinidxWriter w(tmp.file("ours"), dt);
    for (auto& d : want["docs"]) w.add_document(d.get<std::vector<int32_t>>());
    w.finish();
  }
  EXPECT_EQ(sh(script() + " check " + tmp.file("ours") + " " + tmp.file("py.json")), 0);
  // Byte-identical to the numpy writer: same layout, same doc_idx convention.
  EXPECT_EQ(read_text_file(tmp.file("ours.idx")), read_text_file(tmp.file("py.idx")));
  EXPECT_EQ(read_text_file(tmp.file("ours.bin")), read_text_file(tmp.file("py.bin")));
}

INSTANTIATE_TEST_SUITE_P(BinidxDtypes, BinidxGolden, ::testing::Values("uint16", "int32", "uint8", "int64"));

}  // namespace
}  // namespace radlads
