// Malformed GGUF files: each must raise radlads::Error with a one-line message
// that starts with the path and says what is wrong; never a crash, a CHECK
// abort or a huge allocation (this suite also runs under ASan/UBSan). Files
// are crafted byte by byte (test::GgufBytes), not with our writer.
#include <gtest/gtest.h>

#include "core/error.h"
#include "gguf_test_util.h"
#include "io/gguf.h"

namespace radlads {
namespace {

using test::GgufBytes;
using test::TempDir;

constexpr uint32_t kF32 = 0, kQ8_0 = 8;

void expect_rejected(const std::vector<uint8_t>& bytes, const std::string& needle) {
  TempDir dir;
  const std::string path = dir.file("bad.gguf");
  test::write_all(path, bytes);
  try {
    GgufFile f(path);
    ADD_FAILURE() << "accepted a file that should fail with '" << needle << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << "message does not start with the path: " << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << "expected '" << needle << "' in: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

// A small valid file: one string kv, one 2x32 f32 tensor.
GgufBytes valid_file(uint32_t version = 3) {
  GgufBytes g;
  g.header(1, 1, version).kv_str("general.architecture", "llama");
  g.tensor("w", {32, 2}, kF32, 0).pad().zeros(256);
  return g;
}

TEST(GgufMalformed, ValidBaselineOpens) {
  for (uint32_t version : {2u, 3u}) {
    TempDir dir;
    test::write_all(dir.file("ok.gguf"), valid_file(version).b);
    GgufFile f(dir.file("ok.gguf"));
    EXPECT_EQ(f.version(), version);
    EXPECT_EQ(f.get_str("general.architecture"), "llama");
    ASSERT_EQ(f.tensors().size(), 1u);
    EXPECT_EQ(f.tensors()[0].shape, (Shape{2, 32}));
    EXPECT_EQ(f.load_f32(f.tensors()[0]).data, std::vector<float>(64, 0.0f));
  }
}

TEST(GgufMalformed, ZeroDimsIsAScalar) {
  GgufBytes g;
  g.header(1, 0).tensor("s", {}, kF32, 0).pad().put(2.5f).zeros(28);
  TempDir dir;
  test::write_all(dir.file("s.gguf"), g.b);
  GgufFile f(dir.file("s.gguf"));
  EXPECT_TRUE(f.tensors()[0].shape.empty());
  EXPECT_EQ(f.load_f32(f.tensors()[0]).data, std::vector<float>{2.5f});
}

TEST(GgufMalformed, MissingOrEmptyFile) {
  TempDir dir;
  try {
    GgufFile f(dir.file("absent.gguf"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("absent.gguf")), std::string::npos) << e.what();
  }
  expect_rejected({}, "truncated");
  expect_rejected({'G', 'G'}, "truncated");
}

TEST(GgufMalformed, BadMagicAndVersions) {
  GgufBytes g = valid_file();
  g.b[3] = 'G';
  expect_rejected(g.b, "not a GGUF file");
  expect_rejected(valid_file(1).b, "version 1 is not supported");
  expect_rejected(valid_file(99).b, "unsupported GGUF version 99");
  expect_rejected(valid_file(0x03000000).b, "big-endian");
}

TEST(GgufMalformed, AbsurdCountsFailBeforeAllocating) {
  expect_rejected(GgufBytes().header(0, uint64_t(1) << 60).b, "metadata count");
  expect_rejected(GgufBytes().header(uint64_t(1) << 60, 0).b, "tensor count");
  expect_rejected(GgufBytes().header(~uint64_t(0), ~uint64_t(0)).b, "count");
  // An array claiming 2^60 strings, and one claiming 2^40 arrays.
  expect_rejected(GgufBytes().header(0, 1).str("k").u32(9).u32(8).u64(uint64_t(1) << 60).b,
                  "cannot fit");
  expect_rejected(GgufBytes().header(0, 1).str("k").u32(9).u32(9).u64(uint64_t(1) << 40).zeros(64).b,
                  "cannot fit");
}

// An honest array of 12 M one-byte elements: every count fits the file, but
// parsed (~100 bytes per value) it would take over a gigabyte. The metadata
// ceiling refuses it, naming the key.
TEST(GgufMalformed, MetadataThatWouldParseIntoGigabytes) {
  const uint64_t n = uint64_t(12) << 20;
  GgufBytes g;
  g.header(0, 1).str("tokenizer.ggml.token_type").u32(9).u32(0).u64(n).zeros(size_t(n));
  expect_rejected(g.b, "metadata 'tokenizer.ggml.token_type': the metadata would take more than 1024 MiB");
}

TEST(GgufMalformed, StringLengthsPastTheEnd) {
  // Enough bytes follow each claimed length for the count checks to pass.
  expect_rejected(GgufBytes().header(0, 1).u64(uint64_t(1) << 40).zeros(64).b, "truncated");
  expect_rejected(GgufBytes().header(0, 1).u64(~uint64_t(0)).zeros(64).b, "truncated");
  GgufBytes g;
  g.header(0, 1).str("k").u32(8).u64(1000).zeros(10);
  expect_rejected(g.b, "truncated");
  GgufBytes t;
  t.header(1, 0).u64(500).zeros(64);  // tensor name
  expect_rejected(t.b, "truncated");
}

TEST(GgufMalformed, UnknownTypesAndBadValues) {
  expect_rejected(GgufBytes().header(0, 1).str("k").u32(13).u32(0).b, "unknown value type 13");
  expect_rejected(GgufBytes().header(0, 1).str("k").u32(9).u32(77).u64(0).b,
                  "unknown array element type 77");
  expect_rejected(GgufBytes().header(0, 1).str("k").u32(7).put(uint8_t(2)).b, "bool value 2");
  GgufBytes dup;
  dup.header(0, 2).kv_u32("k", 1).kv_u32("k", 2);
  expect_rejected(dup.b, "duplicate key");
  // Arrays nested 20 deep (the limit is 16).
  GgufBytes deep;
  deep.header(0, 1).str("k").u32(9);
  for (int i = 0; i < 20; ++i) deep.u32(9).u64(1);
  deep.u32(0).u64(0).zeros(16);
  expect_rejected(deep.b, "nested");
}

TEST(GgufMalformed, BadAlignment) {
  for (uint32_t a : {0u, 48u, 3u}) {
    GgufBytes g;
    g.header(0, 1).kv_u32("general.alignment", a);
    expect_rejected(g.b, "power of two");
  }
  GgufBytes g;
  g.header(0, 1).str("general.alignment").u32(10).u64(32);
  expect_rejected(g.b, "expected uint32, found uint64");
}

TEST(GgufMalformed, BadTensorInfos) {
  auto one_tensor = [](std::vector<uint64_t> ne, uint32_t type, uint64_t offset, size_t data) {
    GgufBytes g;
    g.header(1, 0).tensor("w", std::move(ne), type, offset).pad().zeros(data);
    return g.b;
  };
  expect_rejected(one_tensor({32, 2}, 4, 0, 256), "unknown ggml type 4");  // retired Q4_2
  expect_rejected(one_tensor({32, 2}, 99, 0, 256), "unknown ggml type 99");
  expect_rejected(one_tensor({32, 1, 1, 1, 1}, kF32, 0, 256), "5 dimensions");
  expect_rejected(one_tensor({32, 0}, kF32, 0, 256), "dimension 1 has size 0");
  expect_rejected(one_tensor({uint64_t(1) << 63, 1}, kF32, 0, 256), "has size");
  expect_rejected(one_tensor({uint64_t(1) << 32, uint64_t(1) << 32, 4}, kF32, 0, 256), "overflow");
  expect_rejected(one_tensor({uint64_t(1) << 31, uint64_t(1) << 31}, kF32, 0, 256), "do not fit");
  expect_rejected(one_tensor({16, 2}, kQ8_0, 0, 256), "not a multiple of the q8_0 block size 32");
  expect_rejected(one_tensor({32, 2}, kF32, 4, 256), "not a multiple of the alignment 32");
  expect_rejected(one_tensor({32, 2}, kF32, 1024, 256), "past the end");
  expect_rejected(one_tensor({32, 2}, kF32, 0, 255), "past the end");
  expect_rejected(one_tensor({32, 2}, kF32, ~uint64_t(0) - 31, 256), "past the end");

  GgufBytes dup;
  dup.header(2, 0).tensor("w", {32}, kF32, 0).tensor("w", {32}, kF32, 128).pad().zeros(256);
  expect_rejected(dup.b, "duplicate tensor name");
}

// Every cut of a valid file short of its last tensor's data must be rejected
// (a cut inside the trailing padding leaves a complete file, so it is not tried).
TEST(GgufMalformed, TruncatedAtEveryByte) {
  TempDir dir;
  GgufWriter w;
  w.set("general.architecture", GgufValue::of_str("llama"));
  w.set("a", GgufValue::of_str_array({"x", "", "yz"}));
  w.set("b", GgufValue::of_f32(1.0f));
  w.add_tensor("t0", GgmlType::F32, {3}, std::vector<uint8_t>(12, 1));
  w.add_tensor("t1", GgmlType::Q8_0, {2, 32}, std::vector<uint8_t>(68, 2));
  const std::string full = dir.file("full.gguf");
  w.write(full);
  const std::vector<uint8_t> bytes = test::read_all(full);
  GgufFile f(full);
  const GgufTensorInfo& last = f.tensors().back();
  const size_t end = bytes.size() - (f.alignment() - last.nbytes % f.alignment()) % f.alignment();
  ASSERT_LT(end, bytes.size());  // this file has trailing padding to skip
  const std::string cut = dir.file("cut.gguf");
  for (size_t n = 0; n < end; ++n) {
    test::write_all(cut, bytes.data(), n);
    try {
      GgufFile g(cut);
      ADD_FAILURE() << "a file cut to " << n << " of " << bytes.size() << " bytes was accepted";
    } catch (const Error& e) {
      ASSERT_EQ(std::string(e.what()).rfind(cut + ": ", 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace radlads
