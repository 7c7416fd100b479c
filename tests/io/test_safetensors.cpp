// Safetensors round trips and malformed files.
#include <fstream>

#include "core/error.h"
#include "core/file_io.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace radlads {
using namespace test;

static void write_raw(const std::string& path, const std::string& header, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  uint64_t n = header.size();
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << header << data;
}

TEST(Safetensors, RoundTripEveryDtype) {
  TempDir tmp;
  Tensor a({3, 5}), b({7}), c({1, 2, 1, 2});
  auto r = randn(15, 1);
  a.data = r;
  b.data = randn(7, 2);
  c.data = {1.0f, -2.5f, 1024.0f, 0.0f};
  for (StDtype d : {StDtype::F32, StDtype::F16, StDtype::BF16}) {
    std::string p = tmp.file(std::string("t_") + st_dtype_name(d) + ".safetensors");
    write_safetensors(p, {{"a", &a}, {"b.weight", &b}, {"c", &c}}, d, {{"format", "pt"}});
    SafetensorsFile f(p);
    ASSERT_EQ(f.tensors().size(), 3u);
    EXPECT_EQ(f.metadata().at("format"), "pt");
    Tensor a2 = f.load_f32(*f.find("a"));
    EXPECT_EQ(a2.shape, a.shape);
    // F16 keeps 11 significant bits, BF16 8: relative error bounds 2^-11, 2^-8.
    double tol = d == StDtype::F32 ? 0 : d == StDtype::F16 ? 1.0 / 2048 : 1.0 / 256;
    for (size_t i = 0; i < a.data.size(); i++)
      EXPECT_LE(std::abs(a2.data[i] - a.data[i]), tol * std::abs(a.data[i])) << i;
    EXPECT_EQ(f.load_f32(*f.find("c")).data, c.data);  // exactly representable everywhere
    // Writing what we read gives the same bytes.
    Tensor b2 = f.load_f32(*f.find("b.weight")), c2 = f.load_f32(*f.find("c"));
    write_safetensors(p + ".2", {{"a", &a2}, {"b.weight", &b2}, {"c", &c2}}, d, {{"format", "pt"}});
    EXPECT_EQ(read_text_file(p), read_text_file(p + ".2"));
  }
}

TEST(Safetensors, MalformedFilesGiveOneLineErrors) {
  TempDir tmp;
  const std::string ok_data(8, '\0');
  struct Case {
    const char* name;
    std::string header;
    std::string data;
    const char* expect;
  };
  std::vector<Case> cases = {
      {"badjson", "{\"a\": ", ok_data, "not valid JSON"},
      {"notobject", "[1,2]", ok_data, "not a JSON object"},
      {"dtype", R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", ok_data, "unsupported safetensors dtype"},
      {"past_end", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", ok_data, "outside the data section"},
      {"shape", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", ok_data, "do not match shape"},
      {"negative", R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}})", ok_data, "non-negative"},
      {"huge", R"({"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}})", ok_data, "absurdly large"},
      {"fields", R"({"a":{"dtype":"F32"}})", ok_data, "needs dtype, shape and data_offsets"},
  };
  for (auto& c : cases) {
    std::string p = tmp.file(std::string(c.name) + ".safetensors");
    write_raw(p, c.header, c.data);
    try {
      SafetensorsFile f(p);
      ADD_FAILURE() << c.name << ": no error";
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(p), std::string::npos) << msg;
      EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": " << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
  // Header length past the end, and a file shorter than the length field.
  std::string p = tmp.file("hlen.safetensors");
  {
    std::ofstream f(p, std::ios::binary);
    uint64_t n = 1ull << 40;
    f.write(reinterpret_cast<const char*>(&n), 8);
  }
  EXPECT_THROW(SafetensorsFile{p}, Error);
  {
    std::ofstream f(p, std::ios::binary);
    f << "abc";
  }
  EXPECT_THROW(SafetensorsFile{p}, Error);
  EXPECT_THROW(SafetensorsFile{tmp.file("missing.safetensors")}, Error);
}

TEST(Safetensors, AtomicWriteLeavesNoPartialFile) {
  TempDir tmp;
  std::string p = tmp.file("x.bin");
  EXPECT_THROW(write_file_atomic(p, [](std::FILE*) { fail("boom"); }), Error);
  EXPECT_FALSE(std::filesystem::exists(p));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(tmp.path), {}), 0);
}

}  // namespace radlads
