// prepare_dataset: tokens without special-token parsing plus EOS, the
// held-out rule, meta.json, independence from threads and batching, and
// nothing left behind on any failure.
#include <gtest/gtest.h>
#include <omp.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "data/binidx.h"
#include "data/prepare.h"
#include "data_test_util.h"
#include "text/gguf_tokenizer.h"

namespace radlads {
using test::error_of;
namespace {

using test::TempDir;
using Ids = std::vector<int32_t>;

const std::vector<std::string> kTexts = {
    "the cat is here", "is the <|endoftext|> text plain?", "", "one\nmore the", "last: is is is"};

// kTexts as a.txt, b.txt, ... in one folder.
std::string make_corpus(const TempDir& tmp) {
  std::filesystem::create_directories(tmp.file("in"));
  for (size_t i = 0; i < kTexts.size(); ++i)
    test::write_file(tmp.file("in/" + std::string(1, char('a' + i)) + ".txt"), kTexts[i]);
  return tmp.file("in");
}

Ids expected(const Tokenizer& tok, const std::string& text) {
  Ids ids = tok.encode(text, false);
  ids.push_back(tok.eos());
  return ids;
}

TEST(DataPrepare, TokensEosAndHeldOutRule) {
  TempDir tmp;
  const Tokenizer tok = test::tiny_tokenizer();
  PrepareOptions o;
  o.heldout_every = 2;
  o.tokenizer_path = "tiny";
  const auto r = prepare_dataset(tok, {make_corpus(tmp)}, tmp.file("out"), o);
  EXPECT_EQ(test::list_tree(tmp.file("out")),
            (std::vector<std::string>{"heldout.bin", "heldout.idx", "meta.json", "train.bin", "train.idx"}));
  const TokenDataset train = TokenDataset::open(tmp.file("out/train")), held = TokenDataset::open(tmp.file("out/heldout"));
  // Documents 0, 2, 4 are held out; 1 and 3 train.
  ASSERT_EQ(held.n_docs(), 3);
  ASSERT_EQ(train.n_docs(), 2);
  EXPECT_EQ(held.doc(0), expected(tok, kTexts[0]));
  EXPECT_EQ(held.doc(1), (Ids{tok.eos()}));  // an empty document is just EOS
  EXPECT_EQ(held.doc(2), expected(tok, kTexts[4]));
  EXPECT_EQ(train.doc(0), expected(tok, kTexts[1]));
  EXPECT_EQ(train.doc(1), expected(tok, kTexts[3]));
  // The special token's text stays text: EOS only at the end.
  const Ids d1 = train.doc(0);
  EXPECT_EQ(std::count(d1.begin(), d1.end(), tok.eos()), 1);
  EXPECT_EQ(tok.decode(Ids(d1.begin(), d1.end() - 1)), kTexts[1]);
  EXPECT_EQ(train.dtype(), TokenDtype::u16);
  EXPECT_EQ(r.train.docs, 2);
  EXPECT_EQ(r.train.tokens, train.n_tokens());
  EXPECT_EQ(r.heldout.tokens, held.n_tokens());
  EXPECT_EQ(r.files, 5);

  const auto meta = nlohmann::json::parse(read_text_file(tmp.file("out/meta.json")));
  EXPECT_EQ(meta["tokenizer"], "tiny");
  EXPECT_EQ(meta["n_vocab"], tok.n_vocab());
  EXPECT_EQ(meta["eos_id"], tok.eos());
  EXPECT_EQ(meta["dtype"], "uint16");
  EXPECT_EQ(meta["heldout_every"], 2);
  EXPECT_EQ(meta["splits"]["train"]["docs"], 2);
  EXPECT_EQ(meta["splits"]["train"]["tokens"], train.n_tokens());
  EXPECT_EQ(meta["splits"]["heldout"]["docs"], 3);
  EXPECT_EQ(meta["inputs"], nlohmann::json::array({tmp.file("in")}));
}

TEST(DataPrepare, SameBytesForAnyThreadCountAndBatchSize) {
  TempDir tmp;
  // Enough varied documents that threads finish out of order.
  std::string jsonl;
  for (int i = 0; i < 300; ++i) {
    std::string t;
    for (int k = 0; k < (i * 37) % 50; ++k) t += (k % 3 ? " the" : " is") + std::to_string(i * k % 11);
    jsonl += nlohmann::json({{"text", t}}).dump() + "\n";
  }
  test::write_file(tmp.file("c.jsonl"), jsonl);
  const Tokenizer tok = test::tiny_tokenizer();
  const int saved = omp_get_max_threads();
  std::vector<std::string> bins;
  int run = 0;
  for (auto [threads, batch] : std::vector<std::pair<int, int64_t>>{{1, 1 << 20}, {4, 100}, {3, 1}}) {
    omp_set_num_threads(threads);
    PrepareOptions o;
    o.heldout_every = 7;
    o.batch_bytes = batch;
    const std::string out = tmp.file("o" + std::to_string(run++));
    prepare_dataset(tok, {tmp.file("c.jsonl")}, out, o);
    bins.push_back(read_text_file(out + "/train.bin") + read_text_file(out + "/train.idx") +
                   read_text_file(out + "/heldout.bin") + read_text_file(out + "/heldout.idx"));
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(bins[0], bins[1]);
  EXPECT_EQ(bins[0], bins[2]);
  EXPECT_EQ(TokenDataset::open(tmp.file("o0/heldout")).n_docs(), 43);  // 0, 7, ..., 294
}

// One plain-text file with a held-out split (the common case) works without
// flags: its paragraphs are the documents, and the result says so. With no
// held-out split, or with several files, a file is one document as before.
TEST(DataPrepare, OnePlainTextFileIsCutIntoParagraphs) {
  TempDir tmp;
  const Tokenizer tok = test::tiny_tokenizer();
  test::write_file(tmp.file("book.txt"), "\n\nthe cat\n\nis here\none more\n \t\n\nlast is\n");
  PrepareOptions o;
  o.heldout_every = 2;
  const auto r = prepare_dataset(tok, {tmp.file("book.txt")}, tmp.file("out"), o);
  EXPECT_EQ(r.documents, "paragraphs");
  const TokenDataset train = TokenDataset::open(tmp.file("out/train")), held = TokenDataset::open(tmp.file("out/heldout"));
  ASSERT_EQ(held.n_docs(), 2);
  ASSERT_EQ(train.n_docs(), 1);
  EXPECT_EQ(held.doc(0), expected(tok, "the cat"));
  EXPECT_EQ(train.doc(0), expected(tok, "is here\none more"));
  EXPECT_EQ(held.doc(1), expected(tok, "last is"));
  const auto meta = nlohmann::json::parse(read_text_file(tmp.file("out/meta.json")));
  EXPECT_NE(meta.at("documents").get<std::string>().find("paragraphs"), std::string::npos);
  // No held-out split: the file stays one document.
  o.heldout_every = 0;
  const auto whole = prepare_dataset(tok, {tmp.file("book.txt")}, tmp.file("out2"), o);
  EXPECT_EQ(whole.documents, "files");
  EXPECT_EQ(whole.train.docs, 1);
}

// One plain-text file without a blank line is one paragraph: the tail of its
// tokens is the held-out split, and the result says so.
TEST(DataPrepare, OneParagraphFileHoldsOutItsTail) {
  TempDir tmp;
  const Tokenizer tok = test::tiny_tokenizer();
  std::string text;
  for (int i = 0; i < 40; i++) text += "the cat is here\n";
  test::write_file(tmp.file("one.txt"), text);
  PrepareOptions o;
  o.heldout_every = 10;
  const auto r = prepare_dataset(tok, {tmp.file("one.txt")}, tmp.file("out"), o);
  EXPECT_EQ(r.documents, "tail");
  text.pop_back();  // a paragraph ends before its last newline
  const std::vector<int32_t> all = expected(tok, text);  // the document's ids, EOS last
  const int64_t h = int64_t(all.size()) / 10;
  const TokenDataset train = TokenDataset::open(tmp.file("out/train")), held = TokenDataset::open(tmp.file("out/heldout"));
  ASSERT_EQ(train.n_docs(), 1);
  ASSERT_EQ(held.n_docs(), 1);
  std::vector<int32_t> head(all.begin(), all.end() - h), tail(all.end() - h, all.end());
  head.push_back(tok.eos());
  EXPECT_EQ(train.doc(0), head);
  EXPECT_EQ(held.doc(0), tail);
}

TEST(DataPrepare, FailuresLeaveNothingBehind) {
  TempDir tmp;
  const Tokenizer tok = test::tiny_tokenizer();
  const std::string corpus = make_corpus(tmp);
  auto leftovers = [&] {
    std::vector<std::string> v;
    for (auto& name : test::list_tree(tmp.path))
      if (name.rfind("in", 0) != 0) v.push_back(name);
    return v;
  };
  PrepareOptions o;
  // A bad JSONL line after good documents: fails mid-way.
  test::write_file(tmp.file("in/z.jsonl"), "{\"text\": \"fine\"}\n{\"text\": 1}\n");
  std::string msg = error_of([&] { prepare_dataset(tok, {corpus}, tmp.file("out"), o); });
  EXPECT_NE(msg.find(tmp.file("in/z.jsonl") + ":2"), std::string::npos) << msg;
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
  std::filesystem::remove(tmp.file("in/z.jsonl"));

  msg = error_of([&] { prepare_dataset(tok, {corpus, tmp.file("nope.txt")}, tmp.file("out"), o); });
  EXPECT_NE(msg.find(tmp.file("nope.txt")), std::string::npos) << msg;
  // A single text too short even to split into a head and a held-out tail.
  test::write_file(tmp.file("in_tiny.txt"), "a");
  msg = error_of([&] { prepare_dataset(tok, {tmp.file("in_tiny.txt")}, tmp.file("out"), o); });
  EXPECT_NE(msg.find("at least 2"), std::string::npos) << msg;
  o.heldout_every = 1;
  EXPECT_NE(error_of([&] { prepare_dataset(tok, {corpus}, tmp.file("out"), o); }).find("heldout-every"),
            std::string::npos);
  o.heldout_every = 50;
  msg = error_of([&] { prepare_dataset(test::tiny_tokenizer(false), {corpus}, tmp.file("out"), o); });
  EXPECT_NE(msg.find("no EOS"), std::string::npos) << msg;
  EXPECT_EQ(leftovers(), std::vector<std::string>{});

  // One document is fine without a held-out split; an existing folder is refused.
  o.heldout_every = 0;
  const auto r = prepare_dataset(tok, {tmp.file("in/a.txt")}, tmp.file("out/"), o);
  EXPECT_EQ(r.train.docs, 1);
  EXPECT_EQ(r.heldout.docs, 0);
  EXPECT_EQ(TokenDataset::open(tmp.file("out/heldout")).n_tokens(), 0);
  msg = error_of([&] { prepare_dataset(tok, {corpus}, tmp.file("out"), o); });
  EXPECT_NE(msg.find("already exists"), std::string::npos) << msg;
  EXPECT_EQ(TokenDataset::open(tmp.file("out/train")).n_docs(), 1);  // untouched
}

TEST(DataPrepare, RealSmolLM2Tokenizer) {
  TempDir tmp;
  const std::string model = test::teacher_path();
  const Tokenizer tok = load_tokenizer(model);
  ASSERT_GE(tok.eos(), 0);
  const std::string a = "The quick brown fox jumps over the lazy dog.\n", b = "<|im_start|>user\nHi<|im_end|>";
  test::write_file(tmp.file("a.txt"), a);
  test::write_file(tmp.file("b.txt"), b);
  PrepareOptions o;
  o.heldout_every = 2;
  o.tokenizer_path = model;
  prepare_dataset(tok, {tmp.file("a.txt"), tmp.file("b.txt")}, tmp.file("out"), o);
  const TokenDataset train = TokenDataset::open(tmp.file("out/train"));
  EXPECT_EQ(train.dtype(), TokenDtype::u16);  // 49152 tokens
  EXPECT_EQ(TokenDataset::open(tmp.file("out/heldout")).doc(0), expected(tok, a));
  // Chat markers in training text are plain text, not control tokens.
  const Ids d = train.doc(0);
  EXPECT_EQ(d, expected(tok, b));
  const int32_t im_start = tok.token_id("<|im_start|>");
  ASSERT_GE(im_start, 0);
  EXPECT_EQ(std::count(d.begin(), d.end(), im_start), 0);
  EXPECT_EQ(std::count(d.begin(), d.end(), tok.eos()), 1);
}

}  // namespace
}  // namespace radlads
