// Evaluation data loaders on files the tests write: gzip lines (long lines,
// CRLF, no final newline, plain text, truncated and corrupt gzip), oe-eval
// request files (grouping, unconditional copies dropped, prompts rebuilt,
// limit, malformed lines), MMLU from Arrow (the harness's prompt, 5-shot,
// per-subject limit), the task table. Every error names the file.
#include <gtest/gtest.h>

#include <fstream>

#include "../test_util.h"
#include "core/error.h"
#include "io/gzip_lines.h"
#include "eval/hellaswag.h"
#include "eval/mmlu.h"
#include "eval/oe_eval_requests.h"
#include "eval/python_strip.h"
#include "eval/task_registry.h"
#include "eval_test_files.h"

namespace radlads {
namespace {

using test::oe_line;

// Runs f, which must throw Error whose message contains every needle.
template <typename F>
void expect_error(F&& f, std::initializer_list<std::string> needles) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    for (const std::string& n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << "'" << n << "' not in: " << e.what();
  }
}

std::vector<std::string> read_all(const std::string& path) {
  GzipLineReader r(path);
  std::vector<std::string> out;
  std::string l;
  while (r.next(l)) out.push_back(l);
  return out;
}

TEST(GzipLines, LinesLongLinesCrlfAndNoFinalNewline) {
  test::TempDir d;
  std::string big(3 << 20, 'x');  // longer than the reader's 1 MiB buffer
  test::write_gzip(d.file("a.gz"), "one\r\ntwo\n\n" + big + "\nlast");
  auto lines = read_all(d.file("a.gz"));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "one");
  EXPECT_EQ(lines[1], "two");
  EXPECT_EQ(lines[2], "");
  EXPECT_EQ(lines[3], big);
  EXPECT_EQ(lines[4], "last");
  test::write_gzip(d.file("empty.gz"), "");
  EXPECT_TRUE(read_all(d.file("empty.gz")).empty());
  std::ofstream(d.file("plain.jsonl")) << "a\nb\n";  // zlib reads uncompressed files as they are
  EXPECT_EQ(read_all(d.file("plain.jsonl")), (std::vector<std::string>{"a", "b"}));
}

TEST(GzipLines, MissingTruncatedAndCorruptFilesNameTheFile) {
  test::TempDir d;
  expect_error([&] { GzipLineReader r(d.file("missing.gz")); }, {"missing.gz: no such file"});
  std::string text;
  for (int i = 0; i < 2000; i++) text += "line " + std::to_string(i * 7919) + "\n";
  test::write_gzip(d.file("full.gz"), text);
  std::ifstream in(d.file("full.gz"), std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(d.file("cut.gz"), std::ios::binary) << gz.substr(0, gz.size() / 2);
  expect_error([&] { read_all(d.file("cut.gz")); }, {"cut.gz: read error"});
  std::string bad = gz;
  bad[bad.size() / 2] ^= 0x55;
  std::ofstream(d.file("bad.gz"), std::ios::binary) << bad;
  expect_error([&] { read_all(d.file("bad.gz")); }, {"bad.gz: read error"});
}

TEST(OeEvalRequests, GroupsChoicesDropsUnconditionalAndLimits) {
  test::TempDir d;
  std::string s;
  for (int doc = 0; doc < 3; doc++)
    for (int c = 0; c < 4; c++)
      s += oe_line(doc, c, "ctx" + std::to_string(doc), " choice" + std::to_string(c), std::to_string(doc));
  for (int c = 0; c < 4; c++) s += oe_line(1000001, c, "Answer:", " u", "1");
  test::write_gzip(d.file("r.jsonl.gz"), s);
  OeRequestFile all = load_oe_eval_requests(d.file("r.jsonl.gz"), OePrompt::Request, true, -1);
  EXPECT_EQ(all.n_docs, 3);
  ASSERT_EQ(all.items.size(), 3u);
  EXPECT_EQ(all.items[2].id, "2");
  EXPECT_EQ(all.items[2].gold, 2);
  ASSERT_EQ(all.items[2].choices.size(), 4u);
  EXPECT_EQ(all.items[2].choices[3].context, "ctx2");
  EXPECT_EQ(all.items[2].choices[3].continuation, " choice3");
  OeRequestFile two = load_oe_eval_requests(d.file("r.jsonl.gz"), OePrompt::Request, true, 2);
  EXPECT_EQ(two.n_docs, 3);
  EXPECT_EQ(two.items.size(), 2u);
}

TEST(OeEvalRequests, RebuildsZeroShotAndPiqaPrompts) {
  test::TempDir d;
  std::string doc = R"({"query": "Question: Why?\nAnswer:", "goal": "Open a jar"})";
  std::string s = oe_line(0, 0, "Question: Shot?\nAnswer: yes\n\nQuestion: Why?\nAnswer:", " because", "0", doc) +
                  oe_line(0, 1, "Question: Shot?\nAnswer: yes\n\nQuestion: Why?\nAnswer:", " no", "0", doc);
  test::write_gzip(d.file("r.jsonl.gz"), s);
  auto q = load_oe_eval_requests(d.file("r.jsonl.gz"), OePrompt::DocQuery, true, -1);
  EXPECT_EQ(q.items[0].choices[1].context, "Question: Why?\nAnswer:");
  auto p = load_oe_eval_requests(d.file("r.jsonl.gz"), OePrompt::PiqaQuestion, true, -1);
  EXPECT_EQ(p.items[0].choices[0].context, "Question: Open a jar\nAnswer:");
  EXPECT_EQ(p.items[0].choices[0].continuation, " because");
}

TEST(OeEvalRequests, MalformedFilesNameFileAndLine) {
  test::TempDir d;
  auto load = [&](const std::string& text, OePrompt prompt = OePrompt::Request) {
    test::write_gzip(d.file("m.jsonl.gz"), text);
    return load_oe_eval_requests(d.file("m.jsonl.gz"), prompt, true, -1);
  };
  std::string ok = oe_line(0, 0, "c", " a", "0") + oe_line(0, 1, "c", " b", "0");
  expect_error([&] { load(ok + "{not json\n"); }, {"m.jsonl.gz:3: not valid JSON"});
  expect_error([&] { load(ok + "[1,2]\n"); }, {"m.jsonl.gz:3: a request line must be a JSON object"});
  expect_error([&] { load(R"({"doc_id": 0, "idx": 0, "label": 0})" "\n"); }, {"m.jsonl.gz:1: missing field 'request'"});
  expect_error([&] { load(R"({"doc_id": "0"})" "\n"); }, {"m.jsonl.gz:1: field 'doc_id' is string"});
  expect_error([&] { load(oe_line(0, 1, "c", " a", "0")); }, {"m.jsonl.gz:1: choice idx 1 of document 0 is out of order"});
  expect_error([&] { load(oe_line(0, 0, "c", " a", "0") + oe_line(0, 1, "c", " b", "1")); },
               {"m.jsonl.gz:2: label 1 of document 0 is inconsistent"});
  expect_error([&] { load(oe_line(0, 0, "c", " a", "5") + oe_line(0, 1, "c", " b", "5")); },
               {"m.jsonl.gz: document 0 has gold 5 but 2 choices"});
  expect_error([&] { load(oe_line(0, 0, "c", " a", "0")); }, {"document 0 has 1 choices"});
  expect_error([&] { load(""); }, {"m.jsonl.gz: no requests"});
  expect_error([&] { load(ok, OePrompt::DocQuery); }, {"m.jsonl.gz:1: missing field 'doc.query'"});
  expect_error([&] { load(oe_line(0, 0, "c", " a", "0", R"({"query": "other"})"), OePrompt::DocQuery); },
               {"m.jsonl.gz:1: request.context does not end with doc.query"});
  expect_error([&] { load_oe_eval_requests(d.file("nope.jsonl.gz"), OePrompt::Request, true, -1); },
               {"nope.jsonl.gz: no such file"});
}

TEST(Mmlu, HarnessPromptFromArrow) {
  test::TempDir d;
  test::write_bytes_file(d.file("mmlu/college_math/test/data-00000-of-00001.arrow"), test::kMmluLikeStream);
  MmluData m = load_mmlu(d.file("mmlu"), {"college_math"}, 0, -1);
  EXPECT_EQ(m.n_questions, 3);
  ASSERT_EQ(m.items.size(), 3u);
  const EvalItem& it = m.items[1];
  EXPECT_EQ(it.id, "college_math/1");
  EXPECT_EQ(it.gold, 3);
  ASSERT_EQ(it.choices.size(), 4u);
  // question.strip(), lettered choices, "Answer:"; the description names the subject with spaces.
  EXPECT_EQ(it.choices[0].context,
            "The following are multiple choice questions (with answers) about college math.\n\n"
            "\xC3\x9Cn\xC3\xAF" "code \xE2\x9C\x93 question\nA. a\nB. b\nC. c\nD. d\nAnswer:");
  EXPECT_EQ(it.choices[2].context, it.choices[0].context);
  EXPECT_EQ(it.choices[0].continuation, " A");
  EXPECT_EQ(it.choices[3].continuation, " D");
  EXPECT_EQ(load_mmlu(d.file("mmlu"), {"college_math"}, 0, 1).items.size(), 1u);
}

TEST(Mmlu, FewShotFromDevSplit) {
  test::TempDir d;
  test::write_bytes_file(d.file("mmlu/x/test/data-00000-of-00001.arrow"), test::kMmluLikeStream);
  test::write_bytes_file(d.file("mmlu/x/dev/data-00000-of-00001.arrow"), test::kMmluLikeFile);
  MmluData m = load_mmlu(d.file("mmlu"), {"x"}, 2, 1);
  ASSERT_EQ(m.items.size(), 1u);
  EXPECT_EQ(m.items[0].choices[0].context,
            "The following are multiple choice questions (with answers) about x.\n\n"
            "What is 2+2?\nA. 3\nB. 4\nC. 5\nD. 6\nAnswer: B\n\n"
            "\xC3\x9Cn\xC3\xAF" "code \xE2\x9C\x93 question\nA. a\nB. b\nC. c\nD. d\nAnswer: D\n\n"
            "What is 2+2?\nA. 3\nB. 4\nC. 5\nD. 6\nAnswer:");
  expect_error([&] { load_mmlu(d.file("mmlu"), {"x"}, 4, 1); }, {"dev/data-00000-of-00001.arrow: 3 dev questions, fewer than 4 shots"});
}

TEST(Mmlu, MissingOrWrongFilesNameThePath) {
  test::TempDir d;
  expect_error([&] { load_mmlu(d.file("mmlu"), {"anatomy"}, 0, -1); }, {"mmlu/anatomy/test/data-00000-of-00001.arrow"});
  // A file without the MMLU columns.
  test::write_bytes_file(d.file("mmlu/y/test/data-00000-of-00001.arrow"), test::kNullsStream);
  expect_error([&] { load_mmlu(d.file("mmlu"), {"y"}, 0, -1); }, {"y/test/data-00000-of-00001.arrow: column 'question' has 1 null"});
  test::write_bytes_file(d.file("mmlu/z/test/data-00000-of-00001.arrow"), {1, 2, 3});
  expect_error([&] { load_mmlu(d.file("mmlu"), {"z"}, 0, -1); }, {"z/test/data-00000-of-00001.arrow"});
}

// Expected strings from the harness's Python preprocessing run on the same rows.
TEST(Hellaswag, HarnessPreprocessingFromArrow) {
  test::TempDir d;
  test::write_bytes_file(d.file("hs.arrow"), test::kHellaswagLikeStream);
  HellaswagData h = load_hellaswag(d.file("hs.arrow"), -1);
  EXPECT_EQ(h.n_docs, 2);
  ASSERT_EQ(h.items.size(), 2u);
  EXPECT_EQ(h.items[0].gold, 3);
  EXPECT_EQ(h.items[0].choices[0].context, "Roof shingle removal: A man is sitting on a roof. He");
  EXPECT_EQ(h.items[0].choices[0].continuation, " is using wrap to wrap a pair of skis.");
  const EvalItem& g = h.items[1];
  EXPECT_EQ(g.gold, 0);
  // " [title]" -> ". ", "[...]" removed, ctx_b capitalised (the rest lowered), "  " -> " " once.
  EXPECT_EQ(g.choices[0].context, "Home and Garden: How to clean a grill.. Heat the grill. Scrape it. use a brush");
  EXPECT_EQ(g.choices[0].continuation, " Scrub it well..");
  EXPECT_EQ(g.choices[1].continuation, "  Rinse  it");
  EXPECT_EQ(g.choices[2].continuation, " Dry it. now [a\nb]");  // no match across a newline
  EXPECT_EQ(g.choices[3].continuation, " Done");  // U+0085 is whitespace to Python's strip
  EXPECT_EQ(load_hellaswag(d.file("hs.arrow"), 1).items.size(), 1u);
  test::write_bytes_file(d.file("mmlu.arrow"), test::kMmluLikeStream);
  expect_error([&] { load_hellaswag(d.file("mmlu.arrow"), -1); }, {"mmlu.arrow: no column 'activity_label'"});
}

TEST(PythonStrip, MatchesStrIsspace) {
  EXPECT_EQ(python_strip(" \t\x1c a b \xC2\xA0\xE2\x80\x83\xE3\x80\x80"), "a b");
  EXPECT_EQ(python_strip("\xE2\x9C\x93 "), "\xE2\x9C\x93");  // a check mark is not space
  EXPECT_EQ(python_rstrip("x\xC2\x85\n"), "x");
  EXPECT_EQ(python_rstrip("x\xE2\x80"), "x\xE2\x80");  // a cut-off sequence is kept
  EXPECT_EQ(python_strip("  "), "");
}

TEST(TaskRegistry, LoadsTinyDataAndRejectsUnknownTasks) {
  test::TempDir d;
  test::write_tiny_data(d.path.string());
  EvalTask hs = load_eval_task("hellaswag", d.path.string(), {});
  EXPECT_EQ(hs.kind, TaskKind::MultipleChoice);
  EXPECT_EQ(hs.paper_metric, "acc_norm");
  EXPECT_EQ(hs.n_available, 2);
  EXPECT_EQ(hs.items.size(), 2u);
  EvalTask lam = load_eval_task("lambada", d.path.string(), {.limit = 1});
  EXPECT_EQ(lam.kind, TaskKind::Lambada);
  ASSERT_EQ(lam.items.size(), 1u);
  EXPECT_EQ(lam.items[0].choices[0].continuation, " mat");
  EvalTask wg = load_eval_task("winogrande", d.path.string(), {});
  EXPECT_NE(wg.items[0].choices[0].context, wg.items[0].choices[1].context);
  expect_error([&] { load_eval_task("piqa", d.path.string(), {}); }, {"piqa/rc_0shot/requests.jsonl.gz: no such file"});
  expect_error([&] { load_eval_task("mmlu", d.path.string(), {}); }, {"mmlu_no_train/abstract_algebra/test"});
  expect_error([&] { load_eval_task("squad", d.path.string(), {}); }, {"unknown task 'squad'"});
  EXPECT_EQ(eval_task_names().size(), 7u);
}

}  // namespace
}  // namespace radlads
