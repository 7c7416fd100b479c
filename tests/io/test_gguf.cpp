// GGUF writer/reader round trips: every metadata type (nested and empty arrays,
// empty and unicode strings), tensors of every ggml type in awkward shapes,
// byte-identical rewrites, typed getters and writer-side validation.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/error.h"
#include "gguf_test_util.h"
#include "io/gguf.h"

namespace radlads {
namespace {

using test::TempDir;

// Deep equality, including the element type of empty arrays and float bits.
void expect_same_value(const GgufValue& a, const GgufValue& b, const std::string& where) {
  ASSERT_EQ(a.type, b.type) << where;
  switch (a.type) {
    case GgufType::UINT8: case GgufType::UINT16: case GgufType::UINT32: case GgufType::UINT64:
      EXPECT_EQ(a.u, b.u) << where;
      break;
    case GgufType::INT8: case GgufType::INT16: case GgufType::INT32: case GgufType::INT64:
      EXPECT_EQ(a.i, b.i) << where;
      break;
    case GgufType::FLOAT32: case GgufType::FLOAT64:
      EXPECT_EQ(std::memcmp(&a.f, &b.f, sizeof(double)), 0) << where << ": " << a.f << " vs " << b.f;
      break;
    case GgufType::BOOL: EXPECT_EQ(a.b, b.b) << where; break;
    case GgufType::STRING: EXPECT_EQ(a.s, b.s) << where; break;
    case GgufType::ARRAY:
      ASSERT_EQ(a.elem_type, b.elem_type) << where;
      ASSERT_EQ(a.arr.size(), b.arr.size()) << where;
      for (size_t i = 0; i < a.arr.size(); ++i)
        expect_same_value(a.arr[i], b.arr[i], where + "[" + std::to_string(i) + "]");
      break;
  }
}

GgufValue scalar(GgufType t, uint64_t u, int64_t i = 0, double f = 0) {
  GgufValue v;
  v.type = t;
  v.u = u;
  v.i = i;
  v.f = f;
  return v;
}

GgufValue array_of(GgufType elem, std::vector<GgufValue> items) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.elem_type = elem;
  v.arr = std::move(items);
  return v;
}

// One key per metadata type and the array shapes that trip up parsers.
GgufMetadata every_metadata_type() {
  GgufMetadata m;
  m.emplace_back("general.architecture", GgufValue::of_str("llama"));
  m.emplace_back("t.u8", scalar(GgufType::UINT8, 255));
  m.emplace_back("t.i8", scalar(GgufType::INT8, 0, -128));
  m.emplace_back("t.u16", scalar(GgufType::UINT16, 65535));
  m.emplace_back("t.i16", scalar(GgufType::INT16, 0, -32768));
  m.emplace_back("t.u32", GgufValue::of_u32(4000000000u));
  m.emplace_back("t.i32", GgufValue::of_i32(std::numeric_limits<int32_t>::min()));
  m.emplace_back("t.u64", GgufValue::of_u64(std::numeric_limits<uint64_t>::max()));
  m.emplace_back("t.i64", scalar(GgufType::INT64, 0, std::numeric_limits<int64_t>::min()));
  m.emplace_back("t.f32", GgufValue::of_f32(1e-5f));
  m.emplace_back("t.f32_neg_zero", GgufValue::of_f32(-0.0f));
  m.emplace_back("t.f32_inf", GgufValue::of_f32(INFINITY));
  m.emplace_back("t.f64", scalar(GgufType::FLOAT64, 0, 0, 3.141592653589793));
  m.emplace_back("t.f64_tiny", scalar(GgufType::FLOAT64, 0, 0, 4.9e-324));
  m.emplace_back("t.true", GgufValue::of_bool(true));
  m.emplace_back("t.false", GgufValue::of_bool(false));
  m.emplace_back("t.empty_string", GgufValue::of_str(""));
  m.emplace_back("t.unicode", GgufValue::of_str("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\xa6\x99 \xe4\xb8\xad"));
  m.emplace_back("t.nul_inside", GgufValue::of_str(std::string("a\0b", 3)));
  m.emplace_back("t.unicode.\xc3\xa9", GgufValue::of_u32(1));  // a non-ASCII key
  m.emplace_back("t.empty_u8_array", array_of(GgufType::UINT8, {}));
  m.emplace_back("t.empty_str_array", GgufValue::of_str_array({}));
  m.emplace_back("t.str_array", GgufValue::of_str_array({"", "a", "\xc4\xa0the", "", "\xf0\x9f\x98\x80"}));
  m.emplace_back("t.i32_array", GgufValue::of_i32_array({1, -2, 3, std::numeric_limits<int32_t>::max()}));
  m.emplace_back("t.f32_array", GgufValue::of_f32_array({0.5f, -1e30f, 1e-40f}));
  m.emplace_back("t.bool_array", array_of(GgufType::BOOL, {GgufValue::of_bool(true), GgufValue::of_bool(false)}));
  m.emplace_back("t.u64_array", array_of(GgufType::UINT64, {GgufValue::of_u64(7), GgufValue::of_u64(1ull << 63)}));
  m.emplace_back("t.f64_array", array_of(GgufType::FLOAT64, {scalar(GgufType::FLOAT64, 0, 0, -2.5)}));
  m.emplace_back("t.nested", array_of(GgufType::ARRAY, {
      array_of(GgufType::UINT16, {scalar(GgufType::UINT16, 1), scalar(GgufType::UINT16, 2)}),
      array_of(GgufType::UINT16, {}),
      array_of(GgufType::STRING, {GgufValue::of_str("x"), GgufValue::of_str("")}),
      array_of(GgufType::ARRAY, {array_of(GgufType::INT8, {scalar(GgufType::INT8, 0, -1)})}),
  }));
  m.emplace_back("t.empty_nested", array_of(GgufType::ARRAY, {}));
  m.emplace_back("", GgufValue::of_str("an empty key is legal GGUF"));
  return m;
}

struct TensorSpec {
  std::string name;
  GgmlType type;
  Shape shape;  // PyTorch order; the last dim is the ggml row
  std::vector<uint8_t> bytes;
};

// A tensor of every ggml type, random bytes (valid for the writer, which does
// not look inside), in 1-D, 4-D and unit-dim shapes; rows of whole blocks.
std::vector<TensorSpec> every_type_tensors() {
  const GgmlType types[] = {
      GgmlType::F32,  GgmlType::F16,  GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
      GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q2_K, GgmlType::Q3_K,
      GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K, GgmlType::I8,
      GgmlType::I16,  GgmlType::I32,  GgmlType::I64,  GgmlType::F64,  GgmlType::BF16,
  };
  std::mt19937 rng(3);
  std::vector<TensorSpec> out;
  int k = 0;
  for (GgmlType t : types) {
    const int64_t b = ggml_block_elems(t);
    const Shape shapes[] = {{b * 3}, {2, 1, 3, b}, {1, b}, {5, 1, 1, 2 * b}};
    const Shape& s = shapes[k++ % 4];
    TensorSpec ts{fmt::format("blk.{}.{}", k, ggml_type_name(t)), t, s, {}};
    ts.bytes.resize(ggml_row_bytes(t, s.back()) * size_t(numel(s) / s.back()));
    for (uint8_t& x : ts.bytes) x = uint8_t(rng());
    out.push_back(std::move(ts));
  }
  return out;
}

// Rebuilds a writer from a file: what "read then rewrite" means everywhere.
GgufWriter writer_from(const GgufFile& f) {
  GgufWriter w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  for (const GgufTensorInfo& t : f.tensors()) {
    const auto b = f.tensor_bytes(t);
    w.add_tensor(t.name, t.type, t.shape, std::vector<uint8_t>(b.begin(), b.end()));
  }
  return w;
}

void round_trip(uint32_t alignment) {
  TempDir dir;
  const GgufMetadata meta = every_metadata_type();
  const std::vector<TensorSpec> tensors = every_type_tensors();
  GgufWriter w;
  for (const auto& [k, v] : meta) w.set(k, v);
  if (alignment != 32) w.set("general.alignment", GgufValue::of_u32(alignment));
  for (const TensorSpec& t : tensors) w.add_tensor(t.name, t.type, t.shape, t.bytes);
  const std::string a = dir.file("a.gguf");
  w.write(a);

  GgufFile f(a);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), alignment);
  const size_t n_meta = meta.size() + (alignment != 32);
  ASSERT_EQ(f.metadata().size(), n_meta);
  for (size_t i = 0; i < meta.size(); ++i) {
    EXPECT_EQ(f.metadata()[i].first, meta[i].first);
    expect_same_value(f.metadata()[i].second, meta[i].second, meta[i].first);
  }
  ASSERT_EQ(f.tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorInfo& ti = f.tensors()[i];
    EXPECT_EQ(ti.name, tensors[i].name);
    EXPECT_EQ(ti.type, tensors[i].type);
    EXPECT_EQ(ti.shape, tensors[i].shape) << ti.name;
    EXPECT_EQ(ti.nbytes, tensors[i].bytes.size());
    EXPECT_EQ(ti.offset % alignment, 0u);
    const auto b = f.tensor_bytes(ti);
    EXPECT_TRUE(std::equal(b.begin(), b.end(), tensors[i].bytes.begin(), tensors[i].bytes.end()))
        << ti.name;
    EXPECT_EQ(f.find_tensor(ti.name), &ti);
  }
  EXPECT_EQ(f.find_tensor("nope"), nullptr);

  const std::string b = dir.file("b.gguf");
  writer_from(f).write(b);
  EXPECT_EQ(test::read_all(a), test::read_all(b)) << "rewrite is not byte-identical";
}

TEST(GgufRoundTrip, EveryMetadataTypeAndTensorType) { round_trip(32); }
TEST(GgufRoundTrip, CustomAlignment) {
  round_trip(64);
  round_trip(1);
}

// fp32 data through add_tensor_f32 and load_f32: exact for F32, and equal to
// dequantize(quantize(x)) for the lossy types.
TEST(GgufRoundTrip, QuantizedTensorsLoadAsF32) {
  TempDir dir;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  const struct {
    GgmlType t;
    Shape s;
  } cases[] = {{GgmlType::F32, {7}},        {GgmlType::F16, {3, 1, 5}},   {GgmlType::BF16, {2, 2, 2, 3}},
               {GgmlType::Q8_0, {300, 64}}, {GgmlType::Q4_0, {1, 32}},   {GgmlType::Q4_1, {4, 1, 2, 96}},
               {GgmlType::F32, {}}};
  GgufWriter w;
  std::vector<Tensor> src;
  for (size_t i = 0; i < std::size(cases); ++i) {
    Tensor t(cases[i].s);
    for (float& v : t.data) v = normal(rng);
    w.add_tensor_f32("t" + std::to_string(i), cases[i].t, t);
    src.push_back(std::move(t));
  }
  w.write(dir.file("q.gguf"));
  GgufFile f(dir.file("q.gguf"));
  for (size_t i = 0; i < std::size(cases); ++i) {
    const GgufTensorInfo& ti = f.tensors()[i];
    EXPECT_EQ(ti.shape, cases[i].s);
    const Tensor got = f.load_f32(ti);
    ASSERT_EQ(got.shape, cases[i].s);
    const int64_t row = ti.shape.empty() ? 1 : ti.shape.back();
    for (int64_t r = 0; r < got.numel() / row; ++r) {
      const auto q = quantize_row(ti.type, src[i].ptr() + r * row, row);
      std::vector<float> want(static_cast<size_t>(row));
      dequantize_row(ti.type, q.data(), want.data(), row);
      for (int64_t j = 0; j < row; ++j) {
        ASSERT_EQ(test::bits(got.data[size_t(r * row + j)]), test::bits(want[size_t(j)]))
            << ti.name << " row " << r;
      }
    }
    if (ti.type == GgmlType::F32) {
      EXPECT_EQ(got.data, src[i].data);
    }
  }
}

// Q8_K is ggml's activation type: no file stores weights in it, and we do
// not dequantize it.
TEST(GgufRoundTrip, LoadF32RejectsTypesItCannotDequantize) {
  TempDir dir;
  GgufWriter w;
  w.add_tensor("q8k", GgmlType::Q8_K, {1, 256}, std::vector<uint8_t>(ggml_block_bytes(GgmlType::Q8_K), 0));
  w.write(dir.file("q8k.gguf"));
  GgufFile f(dir.file("q8k.gguf"));
  try {
    f.load_f32(f.tensors()[0]);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("q8k.gguf")), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("q8_K"), std::string::npos) << e.what();
  }
}

TEST(GgufWriter, SetReplacesInPlaceAndRemoveDeletes) {
  TempDir dir;
  GgufWriter w;
  w.set("a", GgufValue::of_u32(1));
  w.set("b", GgufValue::of_u32(2));
  w.set("c", GgufValue::of_u32(3));
  w.set("a", GgufValue::of_str("one"));
  w.remove("b");
  w.remove("not there");
  w.write(dir.file("s.gguf"));
  GgufFile f(dir.file("s.gguf"));
  ASSERT_EQ(f.metadata().size(), 2u);
  EXPECT_EQ(f.metadata()[0].first, "a");
  EXPECT_EQ(f.get_str("a"), "one");
  EXPECT_EQ(f.metadata()[1].first, "c");
  EXPECT_TRUE(f.tensors().empty());
}

TEST(GgufWriter, RejectsBadInput) {
  TempDir dir;
  GgufWriter w;
  w.add_tensor("x", GgmlType::F32, {2, 3}, std::vector<uint8_t>(24));
  EXPECT_THROW(w.add_tensor("x", GgmlType::F32, {2, 3}, std::vector<uint8_t>(24)), Error);
  EXPECT_THROW(w.add_tensor("y", GgmlType::F32, {2, 3}, std::vector<uint8_t>(23)), Error);
  EXPECT_THROW(w.add_tensor("y", GgmlType::Q8_0, {2, 16}, std::vector<uint8_t>(34)), Error);
  EXPECT_THROW(w.add_tensor("y", GgmlType::F32, {1, 1, 1, 1, 1}, std::vector<uint8_t>(4)), Error);
  EXPECT_THROW(w.add_tensor("y", GgmlType::F32, {0, 3}, {}), Error);
  EXPECT_THROW(w.add_tensor_f32("y", GgmlType::Q4_K, Tensor({256})), Error);

  GgufWriter bad_value;
  bad_value.set("u8", scalar(GgufType::UINT8, 300));
  EXPECT_THROW(bad_value.write(dir.file("v.gguf")), Error);
  GgufWriter bad_array;
  bad_array.set("arr", array_of(GgufType::INT32, {GgufValue::of_str("not an int")}));
  EXPECT_THROW(bad_array.write(dir.file("v.gguf")), Error);
  GgufWriter bad_align;
  bad_align.set("general.alignment", GgufValue::of_u32(48));
  EXPECT_THROW(bad_align.write(dir.file("v.gguf")), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("v.gguf")));  // nothing half-written
  EXPECT_THROW(w.write(dir.file("no/such/dir/x.gguf")), Error);
}

TEST(GgufFile, TypedGetters) {
  TempDir dir;
  GgufWriter w;
  w.set("s", GgufValue::of_str("text"));
  w.set("u8", scalar(GgufType::UINT8, 200));
  w.set("i16", scalar(GgufType::INT16, 0, -5));
  w.set("u64big", GgufValue::of_u64(std::numeric_limits<uint64_t>::max()));
  w.set("f", GgufValue::of_f32(0.25f));
  w.set("b", GgufValue::of_bool(true));
  w.set("strs", GgufValue::of_str_array({"x", "y"}));
  w.set("ints", array_of(GgufType::UINT16, {scalar(GgufType::UINT16, 9), scalar(GgufType::UINT16, 10)}));
  w.set("floats", GgufValue::of_f32_array({1.5f, -2.0f}));
  const std::string path = dir.file("g.gguf");
  w.write(path);
  GgufFile f(path);

  EXPECT_EQ(f.get_str("s"), "text");
  EXPECT_EQ(f.get_int("u8"), 200);
  EXPECT_EQ(f.get_int("i16"), -5);
  EXPECT_EQ(f.get_float("f"), 0.25);
  EXPECT_EQ(f.get_float("u8"), 200.0);  // integers are numbers too
  EXPECT_TRUE(f.get_bool("b"));
  EXPECT_EQ(f.get_str_array("strs"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(f.get_int_array("ints"), (std::vector<int64_t>{9, 10}));
  EXPECT_EQ(f.get_float_array("floats"), (std::vector<double>{1.5, -2.0}));
  EXPECT_EQ(f.get_float_array("ints"), (std::vector<double>{9, 10}));
  EXPECT_EQ(f.opt_int("missing"), std::nullopt);
  EXPECT_EQ(f.opt_str("s"), "text");
  EXPECT_EQ(f.opt_bool("b"), true);
  EXPECT_EQ(f.opt_float("f"), 0.25);
  ASSERT_NE(f.find("s"), nullptr);
  EXPECT_EQ(f.find("missing"), nullptr);

  auto expect_error = [&](auto&& call, const std::string& needle) {
    try {
      call();
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
  };
  expect_error([&] { f.get_str("missing"); }, "metadata missing: missing");
  expect_error([&] { f.get_str("u8"); }, "metadata u8: expected string, found uint8");
  expect_error([&] { f.get_int("s"); }, "expected an integer, found string");
  expect_error([&] { f.get_int("u64big"); }, "too large");
  expect_error([&] { f.get_bool("u8"); }, "expected bool, found uint8");
  expect_error([&] { f.get_float("strs"); }, "found array of string");
  expect_error([&] { f.get_str_array("ints"); }, "expected array of string, found array of uint16");
  expect_error([&] { f.get_int_array("floats"); }, "found array of float32");
  expect_error([&] { f.opt_int("s"); }, "expected an integer");  // present but wrong: still an error
}

}  // namespace
}  // namespace radlads
