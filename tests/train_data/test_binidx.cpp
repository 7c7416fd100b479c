// Binidx: our writer read back by our reader (every dtype, empty documents,
// reads across document boundaries), and malformed files each rejected with
// one Error naming the file.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "core/error.h"
#include "data/binidx.h"
#include "data_test_util.h"

namespace radlads {
namespace {

using test::TempDir;
using Docs = std::vector<std::vector<int32_t>>;

Docs random_docs(uint64_t seed, int32_t max_id) {
  std::mt19937_64 g(seed);
  // Empty documents at the start, middle and end: pointers must still agree.
  const std::vector<int> sizes = {0, 3, 1, 0, 257, 64, 0};
  Docs docs;
  for (int s : sizes) {
    std::vector<int32_t> d(static_cast<size_t>(s));
    for (auto& x : d) x = int32_t(g() % uint64_t(max_id + 1));
    docs.push_back(d);
  }
  docs[4][0] = max_id;  // the largest id the dtype must keep (65535 for uint16)
  return docs;
}

void write_docs(const std::string& prefix, TokenDtype dt, const Docs& docs) {
  BinidxWriter w(prefix, dt);
  for (auto& d : docs) w.add_document(d);
  w.finish();
}

std::vector<int32_t> flat(const Docs& docs) {
  std::vector<int32_t> f;
  for (auto& d : docs) f.insert(f.end(), d.begin(), d.end());
  return f;
}

void expect_round_trip(TokenDtype dt, int32_t max_id) {
  TempDir tmp;
  const Docs docs = random_docs(uint64_t(dt), max_id);
  write_docs(tmp.file("d"), dt, docs);
  const TokenDataset ds = TokenDataset::open(tmp.file("d"));
  ASSERT_EQ(ds.dtype(), dt);
  ASSERT_EQ(ds.n_docs(), int64_t(docs.size()));
  const std::vector<int32_t> all = flat(docs);
  ASSERT_EQ(ds.n_tokens(), int64_t(all.size()));
  for (size_t i = 0; i < docs.size(); ++i) EXPECT_EQ(ds.doc(int64_t(i)), docs[i]) << "doc " << i;
  std::vector<int64_t> want_idx(docs.size() + 1);
  for (size_t i = 0; i < want_idx.size(); ++i) want_idx[i] = int64_t(i);
  EXPECT_EQ(ds.doc_index(), want_idx);
  // Every slice that crosses the 3|1|0|257 boundaries, and the whole stream.
  for (int64_t off : {0, 1, 2, 3, 4, 5, 200, 260, 300}) {
    for (int64_t n : {0, 1, 2, 5, 40}) {
      if (off + n > ds.n_tokens()) continue;
      std::vector<int32_t> got(static_cast<size_t>(n));
      ds.read(off, n, got.data());
      EXPECT_EQ(got, std::vector<int32_t>(all.begin() + off, all.begin() + off + n)) << off << "+" << n;
    }
  }
  std::vector<int32_t> whole(all.size());
  ds.read(0, ds.n_tokens(), whole.data());
  EXPECT_EQ(whole, all);
  // The file is exactly the tokens at the dtype's width.
  EXPECT_EQ(std::filesystem::file_size(tmp.file("d.bin")), all.size() * size_t(dtype_size(dt)));
}

TEST(BinidxRoundTrip, Uint16KeepsFullRange) { expect_round_trip(TokenDtype::u16, 65535); }
TEST(BinidxRoundTrip, Int32) { expect_round_trip(TokenDtype::i32, 151664); }
TEST(BinidxRoundTrip, OtherIntegerDtypes) {
  expect_round_trip(TokenDtype::u8, 255);
  expect_round_trip(TokenDtype::i8, 127);
  expect_round_trip(TokenDtype::i16, 32767);
  expect_round_trip(TokenDtype::i64, 1 << 30);
}

TEST(BinidxRoundTrip, DtypeForVocab) {
  EXPECT_EQ(dtype_for_vocab(49152), TokenDtype::u16);
  EXPECT_EQ(dtype_for_vocab(65536), TokenDtype::u16);
  EXPECT_EQ(dtype_for_vocab(65537), TokenDtype::i32);
  EXPECT_EQ(dtype_for_vocab(151665), TokenDtype::i32);
}

TEST(BinidxRoundTrip, EmptyDatasetAndPrefixWithExtension) {
  TempDir tmp;
  write_docs(tmp.file("e"), TokenDtype::u16, {});
  for (const char* name : {"e", "e.bin", "e.idx"}) {
    const TokenDataset ds = TokenDataset::open(tmp.file(name));
    EXPECT_EQ(ds.n_docs(), 0);
    EXPECT_EQ(ds.n_tokens(), 0);
    EXPECT_EQ(ds.prefix(), tmp.file("e"));
    EXPECT_EQ(ds.doc_index(), std::vector<int64_t>{0});
  }
}

TEST(BinidxRoundTrip, WriterRejectsIdsOutsideDtypeAndLeavesNothing) {
  TempDir tmp;
  {
    BinidxWriter w(tmp.file("x"), TokenDtype::u16);
    w.add_document(std::vector<int32_t>{1, 2});
    try {
      w.add_document(std::vector<int32_t>{65536});
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(tmp.file("x.bin")), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("65536"), std::string::npos) << e.what();
    }
    std::vector<int32_t> neg = {-1};
    EXPECT_THROW(w.add_document(neg), Error);
  }  // destroyed without finish: its temporary .bin goes
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path)) << test::list_tree(tmp.path).front();
}

// ---- malformed files ----

// A valid 3-document uint16 dataset's .idx bytes, to corrupt.
std::string good_idx(const TempDir& tmp) {
  write_docs(tmp.file("g"), TokenDtype::u16, {{1, 2, 3}, {4}, {5, 6}});
  std::ifstream f(tmp.file("g.idx"), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void expect_open_error(const std::string& prefix, const std::string& file, const std::string& needle) {
  try {
    TokenDataset::open(prefix);
    ADD_FAILURE() << "no error for " << needle;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

void put_u64(std::string& s, size_t at, uint64_t v) { std::memcpy(s.data() + at, &v, 8); }

TEST(BinidxMalformed, EachDefectNamesTheFile) {
  TempDir tmp;
  const std::string good = good_idx(tmp);
  ASSERT_EQ(good.size(), 34u + 3 * 12 + 4 * 8);
  const std::string idx = tmp.file("g.idx"), bin = tmp.file("g.bin"), prefix = tmp.file("g");
  auto with_idx = [&](const std::string& bytes) { test::write_file(idx, bytes); };
  struct Case {
    std::string what, bytes, file, needle;
  };
  std::string bad_magic = good, bad_version = good, float_dtype = good, bad_dtype = good, big_n = good,
              bad_ptr = good, neg_size = good, bad_doc_idx = good, huge_m = good;
  bad_magic[3] = 'X';
  put_u64(bad_version, 9, 2);
  float_dtype[17] = 7;
  bad_dtype[17] = 9;
  put_u64(big_n, 18, 4);
  put_u64(huge_m, 26, uint64_t(1) << 62);
  put_u64(bad_ptr, 34 + 12 + 8, 4);                        // pointers[1] should be 6
  { int32_t m1 = -1; std::memcpy(neg_size.data() + 34, &m1, 4); }
  put_u64(bad_doc_idx, 34 + 36 + 16, 0);                   // doc_idx = 0,1,0,3
  const std::vector<Case> cases = {
      {"empty", "", idx, "truncated header"},
      {"short header", good.substr(0, 20), idx, "truncated header"},
      {"bad magic", bad_magic, idx, "bad magic"},
      {"version", bad_version, idx, "version 2"},
      {"float dtype", float_dtype, idx, "float dtype code 7"},
      {"unknown dtype", bad_dtype, idx, "unknown dtype code 9"},
      {"truncated body", good.substr(0, good.size() - 1), idx, "bytes"},
      {"trailing bytes", good + "x", idx, "bytes"},
      {"doc count too big", big_n, idx, "4 documents"},
      {"absurd doc-index length", huge_m, idx, "need more"},
      {"pointer", bad_ptr, idx, "pointer 4 is inconsistent"},
      {"negative size", neg_size, idx, "negative size"},
      {"doc_idx", bad_doc_idx, idx, "doc_idx[2]"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    with_idx(c.bytes);
    expect_open_error(prefix, c.file, c.needle);
  }
  // The .bin's size against the index: one token short, one byte long.
  with_idx(good);
  test::write_file(bin, std::string(10, '\0'));
  expect_open_error(prefix, bin, "lists 6 tokens");
  test::write_file(bin, std::string(13, '\0'));
  expect_open_error(prefix, bin, "13 bytes");
  std::filesystem::remove(bin);
  expect_open_error(prefix, bin, "cannot open");
  expect_open_error(tmp.file("nothing"), tmp.file("nothing.idx"), "cannot open");
}

}  // namespace
}  // namespace radlads
