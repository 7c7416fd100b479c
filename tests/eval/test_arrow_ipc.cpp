// Arrow IPC reader against bytes written by pyarrow (arrow_golden.h): stream
// and file formats, two record batches, skipped float and struct columns,
// nulls; every truncation and every single-byte corruption either decodes or
// throws Error naming the file (never a crash; run under ASan by
// scripts/test_sanitizers.sh).
#include <gtest/gtest.h>

#include <fstream>

#include "../test_util.h"
#include "arrow_golden.h"
#include "core/error.h"
#include "eval/arrow_ipc.h"

namespace radlads {
namespace {

using Kind = ArrowColumn::Kind;
using Strings = std::vector<std::string>;

void expect_golden_table(const ArrowTable& t) {
  EXPECT_EQ(t.n_rows, 3);
  ASSERT_EQ(t.columns.size(), 6u);
  EXPECT_EQ(t.column("question", Kind::Utf8).strings,
            (Strings{"What is 2+2?", "  \xC3\x9Cn\xC3\xAF" "code \xE2\x9C\x93 question\n", "Last?"}));
  EXPECT_EQ(t.column("subject", Kind::Utf8).strings, (Strings{"math", "math", "math"}));
  const auto& lists = t.column("choices", Kind::Utf8List).lists;
  ASSERT_EQ(lists.size(), 3u);
  EXPECT_EQ(lists[0], (Strings{"3", "4", "5", "6"}));
  EXPECT_EQ(lists[1], (Strings{"a", "b", "c", "d"}));
  EXPECT_EQ(lists[2], (Strings{"w", "x", "y", "z"}));
  EXPECT_EQ(t.column("answer", Kind::Int).ints, (std::vector<int64_t>{1, 3, 0}));
  // float64 and struct columns are not decoded, but their buffers are stepped over.
  EXPECT_EQ(t.columns[4].kind, Kind::Skipped);
  EXPECT_EQ(t.columns[5].kind, Kind::Skipped);
}

TEST(ArrowIpc, ReadsPyarrowStream) {
  expect_golden_table(parse_arrow_ipc(test::kMmluLikeStream.data(), test::kMmluLikeStream.size(), "s.arrow"));
}

TEST(ArrowIpc, ReadsPyarrowFileFormat) {
  expect_golden_table(parse_arrow_ipc(test::kMmluLikeFile.data(), test::kMmluLikeFile.size(), "f.arrow"));
}

TEST(ArrowIpc, ReadsFromDisk) {
  test::TempDir d;
  std::string p = d.file("data.arrow");
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(test::kMmluLikeStream.data()), std::streamsize(test::kMmluLikeStream.size()));
  expect_golden_table(read_arrow_ipc(p));
}

TEST(ArrowIpc, WrongKindMissingColumnAndNullsAreErrors) {
  ArrowTable t = parse_arrow_ipc(test::kMmluLikeStream.data(), test::kMmluLikeStream.size(), "s.arrow");
  EXPECT_THROW(t.column("answer", Kind::Utf8), Error);
  EXPECT_THROW(t.column("nonesuch", Kind::Utf8), Error);
  EXPECT_THROW(t.column("score", Kind::Int), Error);

  ArrowTable n = parse_arrow_ipc(test::kNullsStream.data(), test::kNullsStream.size(), "n.arrow");
  EXPECT_EQ(n.n_rows, 2);
  EXPECT_EQ(n.columns[0].null_count, 1);
  try {
    n.column("question", Kind::Utf8);
    FAIL() << "nulls accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("n.arrow: column 'question' has 1 null"), std::string::npos) << e.what();
  }
  EXPECT_EQ(n.column("answer", Kind::Int).ints, (std::vector<int64_t>{-3, 7}));  // signed int8 widened
}

TEST(ArrowIpc, MissingAndEmptyFilesNameThePath) {
  test::TempDir d;
  try {
    read_arrow_ipc(d.file("nope.arrow"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.arrow"), std::string::npos) << e.what();
  }
  std::ofstream(d.file("empty.arrow")).close();
  try {
    read_arrow_ipc(d.file("empty.arrow"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty.arrow: not an Arrow IPC file"), std::string::npos) << e.what();
  }
}

// Each proper prefix must fail (or, cut exactly at a message boundary, read
// fewer rows): never crash, never read past the buffer (ASan checks).
TEST(ArrowIpc, EveryTruncationFailsCleanly) {
  const auto& g = test::kMmluLikeStream;
  int errors = 0;
  for (size_t n = 0; n < g.size(); n++) {
    // A copy of exactly n bytes, so that ASan sees reads past it.
    std::vector<uint8_t> cut(g.begin(), g.begin() + ptrdiff_t(n));
    try {
      ArrowTable t = parse_arrow_ipc(cut.data(), cut.size(), "cut.arrow");
      // All rows only when just the 8-byte end-of-stream marker is missing.
      if (t.n_rows == 3) {
        EXPECT_EQ(n, g.size() - 8);
      }
      EXPECT_LE(t.n_rows, 3) << "prefix of " << n << " bytes";
    } catch (const Error& e) {
      errors++;
      EXPECT_EQ(std::string(e.what()).rfind("cut.arrow", 0), 0u) << e.what();
    }
  }
  EXPECT_GT(errors, int(g.size()) - 8);  // only cuts at message ends can succeed
}

TEST(ArrowIpc, SingleByteCorruptionNeverCrashes) {
  const auto& g = test::kMmluLikeStream;
  int errors = 0;
  for (size_t i = 0; i < g.size(); i++) {
    for (uint8_t flip : {uint8_t(0xFF), uint8_t(0x80), uint8_t(0x01)}) {
      std::vector<uint8_t> bad = g;
      bad[i] ^= flip;
      try {
        ArrowTable t = parse_arrow_ipc(bad.data(), bad.size(), "bad.arrow");
        // Decoding may succeed (a changed character, a padding byte) with sane sizes.
        for (const ArrowColumn& c : t.columns) {
          size_t rows = c.kind == Kind::Utf8 ? c.strings.size()
                        : c.kind == Kind::Int ? c.ints.size()
                        : c.kind == Kind::Utf8List ? c.lists.size() : size_t(t.n_rows);
          EXPECT_EQ(int64_t(rows), t.n_rows);
        }
      } catch (const Error& e) {
        errors++;
        EXPECT_EQ(std::string(e.what()).rfind("bad.arrow", 0), 0u) << e.what();
      }
    }
  }
  EXPECT_GT(errors, 100);  // the test must exercise the error paths, not only benign bytes
}

}  // namespace
}  // namespace radlads
