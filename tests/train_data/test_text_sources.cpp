// Documents from plain, JSONL and gzip files, folders and @lists: order,
// content, and errors that name the file (and line).
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/text_sources.h"
#include "data_test_util.h"

namespace radlads {
using test::error_of;
namespace {

using test::TempDir;

std::vector<SourceDocument> read_all(const std::vector<std::string>& inputs) {
  DocumentReader r(expand_inputs(inputs));
  std::vector<SourceDocument> docs;
  SourceDocument d;
  while (r.next(d)) docs.push_back(d);
  return docs;
}

TEST(DataSources, FolderInSortedOrderWithEveryFormat) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.file("c/sub"));
  std::filesystem::create_directories(tmp.file(".git"));
  test::write_file(tmp.file("b.txt"), "plain\nwith two lines\n");
  test::write_file(tmp.file("a.jsonl"),
                   "{\"text\": \"first\", \"id\": 1}\n\n  \n{\"meta\": {}, \"text\": \"sec\\u00e9ond\\n\"}\r\n");
  test::write_gz(tmp.file("c/sub/z.txt.gz"), "gzipped whole file");
  test::write_gz(tmp.file("c/d.jsonl.gz"), "{\"text\": \"g1\"}\n{\"text\": \"\"}");
  test::write_file(tmp.file(".hidden.txt"), "skipped");
  test::write_file(tmp.file(".git/x.txt"), "skipped");
  const auto files = expand_inputs({tmp.path.string()});
  ASSERT_EQ(files, (std::vector<std::string>{tmp.file("a.jsonl"), tmp.file("b.txt"), tmp.file("c/d.jsonl.gz"),
                                             tmp.file("c/sub/z.txt.gz")}));
  const auto docs = read_all({tmp.path.string()});
  std::vector<std::string> texts, origins;
  for (auto& d : docs) texts.push_back(d.text), origins.push_back(d.origin);
  EXPECT_EQ(texts, (std::vector<std::string>{"first", "sec\xc3\xa9ond\n", "plain\nwith two lines\n", "g1", "",
                                             "gzipped whole file"}));
  EXPECT_EQ(origins, (std::vector<std::string>{tmp.file("a.jsonl") + ":1", tmp.file("a.jsonl") + ":4",
                                               tmp.file("b.txt"), tmp.file("c/d.jsonl.gz") + ":1",
                                               tmp.file("c/d.jsonl.gz") + ":2", tmp.file("c/sub/z.txt.gz")}));
}

TEST(DataSources, ListFilesAndExplicitOrder) {
  TempDir tmp;
  test::write_file(tmp.file("x.txt"), "X");
  test::write_file(tmp.file("y.txt"), "Y");
  test::write_file(tmp.file("files.list"), tmp.file("y.txt") + "\n\n" + tmp.file("x.txt") + "\n");
  auto docs = read_all({"@" + tmp.file("files.list"), tmp.file("y.txt")});
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].text + docs[1].text + docs[2].text, "YXY");  // given order, not sorted
  // A list naming itself stops with an error instead of recursing forever.
  test::write_file(tmp.file("self.list"), "@" + tmp.file("self.list") + "\n");
  EXPECT_NE(error_of([&] { expand_inputs({"@" + tmp.file("self.list")}); }).find("nested"), std::string::npos);
}

TEST(DataSources, BadJsonlLinesNameFileAndLine) {
  TempDir tmp;
  const std::string good = "{\"text\": \"ok\"}\n";
  struct Case {
    std::string line, needle;
  };
  const std::vector<Case> cases = {
      {"{\"text\": \"unterminated}", "not valid JSON"},
      {"[\"text\"]", "expected a JSON object"},
      {"{\"body\": \"x\"}", "no \"text\" field"},
      {"{\"text\": 42}", "\"text\" is not a string"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    const std::string path = tmp.file("bad.jsonl");
    test::write_file(path, good + "\n" + c.line + "\n" + good);
    const std::string msg = error_of([&] { read_all({path}); });
    EXPECT_NE(msg.find(path + ":3:"), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.needle), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(DataSources, MissingEmptyAndCorruptInputs) {
  TempDir tmp;
  EXPECT_NE(error_of([&] { expand_inputs({tmp.file("none.txt")}); }).find(tmp.file("none.txt") + ": no such"),
            std::string::npos);
  std::filesystem::create_directories(tmp.file("empty"));
  EXPECT_NE(error_of([&] { expand_inputs({tmp.file("empty")}); }).find(tmp.file("empty")), std::string::npos);
  EXPECT_NE(error_of([&] { expand_inputs({"@" + tmp.file("no.list")}); }).find(tmp.file("no.list")),
            std::string::npos);
  // A gzip stream cut in half, as a whole-file document and as JSONL.
  std::string big;
  for (int i = 0; i < 2000; ++i) big += "{\"text\": \"line " + std::to_string(i * 7919 % 1000) + "\"}\n";
  test::write_gz(tmp.file("full.gz"), big);
  const std::string z = read_document_file(tmp.file("full.gz"));
  EXPECT_EQ(z, big);
  std::string bytes;
  {
    std::ifstream f(tmp.file("full.gz"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  test::write_file(tmp.file("cut.txt.gz"), bytes.substr(0, bytes.size() / 2));
  test::write_file(tmp.file("cut.jsonl.gz"), bytes.substr(0, bytes.size() / 2));
  for (const char* name : {"cut.txt.gz", "cut.jsonl.gz"}) {
    const std::string msg = error_of([&] { read_all({tmp.file(name)}); });
    EXPECT_NE(msg.find(tmp.file(name)), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace radlads
