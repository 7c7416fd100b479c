// The real teacher file (SmolLM2-135M-Instruct Q4_1 GGUF, fetched by
// scripts/setup.sh): metadata and every dequantized tensor against gguf-py's
// reading of the same file (tests/data/smollm2_135m_q4_1_reference.json, made
// by scripts/golden_ggml_quants.py), a byte-identical rewrite, and truncation.
// A missing model is a failure, not a skip: these tests must not pass silently.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>

#include "core/error.h"
#include "gguf_test_util.h"
#include "io/gguf.h"

namespace radlads {
namespace {

std::string model_path() { return test::cache_dir() + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"; }

nlohmann::json reference() {
  std::ifstream in(test::data_path("smollm2_135m_q4_1_reference.json"));
  EXPECT_TRUE(in.good()) << "missing tests/data/smollm2_135m_q4_1_reference.json";
  return nlohmann::json::parse(in);
}

#define REQUIRE_MODEL(path)                                                                   \
  const std::string path = model_path();                                                      \
  if (!std::filesystem::exists(path))                                                         \
  FAIL() << path << " not found: run scripts/setup.sh (or set RADLADS_CACHE) to fetch the "   \
            "SmolLM2-135M-Instruct teacher"

TEST(RealModelGguf, MetadataMatchesGgufPy) {
  REQUIRE_MODEL(path);
  const nlohmann::json ref = reference();
  ASSERT_EQ(std::filesystem::file_size(path), ref["file_size"].get<uint64_t>())
      << path << " is not the file the reference was made from; re-run "
      << "scripts/golden_ggml_quants.py if the teacher changed on purpose";
  GgufFile f(path);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.get_str("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.block_count"), 30);
  EXPECT_EQ(f.get_int("llama.embedding_length"), 576);
  EXPECT_EQ(f.get_int("llama.attention.head_count"), 9);
  EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), 3);
  EXPECT_EQ(f.get_float("llama.rope.freq_base"), 100000.0);
  EXPECT_EQ(f.get_float("llama.attention.layer_norm_rms_epsilon"), double(1e-5f));
  EXPECT_EQ(f.get_str("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get_str_array("tokenizer.ggml.tokens").size(), 49152u);

  const auto& meta = ref["metadata"];
  ASSERT_EQ(f.metadata().size(), meta.size());
  for (size_t i = 0; i < meta.size(); ++i) {
    const auto& [key, v] = f.metadata()[i];
    const auto& m = meta[i];
    ASSERT_EQ(key, m["key"].get<std::string>());
    ASSERT_EQ(gguf_type_name(v.type), m["type"].get<std::string>()) << key;
    // One comparison for scalars and array items: JSON holds gguf-py's value.
    auto same = [&](const GgufValue& x, const nlohmann::json& j) {
      switch (x.type) {
        case GgufType::STRING: EXPECT_EQ(x.s, j.get<std::string>()) << key; break;
        case GgufType::BOOL: EXPECT_EQ(x.b, j.get<bool>()) << key; break;
        case GgufType::FLOAT32: case GgufType::FLOAT64: EXPECT_EQ(x.f, j.get<double>()) << key; break;
        case GgufType::UINT8: case GgufType::UINT16: case GgufType::UINT32: case GgufType::UINT64:
          EXPECT_EQ(x.u, j.get<uint64_t>()) << key;
          break;
        default: EXPECT_EQ(x.i, j.get<int64_t>()) << key; break;
      }
    };
    if (v.type == GgufType::ARRAY) {
      EXPECT_EQ(gguf_type_name(v.elem_type), m["elem_type"].get<std::string>()) << key;
      ASSERT_EQ(v.arr.size(), m["length"].get<size_t>()) << key;
      for (size_t k = 0; k < m["head"].size(); ++k) same(v.arr[k], m["head"][k]);
    } else {
      same(v, m["value"]);
    }
  }
}

// Every tensor's info, and its dequantized values: 8 sampled values bit for
// bit, and sum / sum of squares. The sums are accumulated in double on both
// sides from identical fp32 values, but numpy sums pairwise and we sum in
// order, so they may differ by rounding: |Δ| ≤ n·eps·Σ|x| (n ≤ 3e7,
// eps = 1.1e-16) ≈ 3e-9·Σ|x|; we allow 1e-8·Σ|x|. A wrong value anywhere moves
// the sum of squares by far more.
TEST(RealModelGguf, EveryTensorMatchesGgufPy) {
  REQUIRE_MODEL(path);
  const nlohmann::json ref = reference();
  GgufFile f(path);
  const auto& tensors = ref["tensors"];
  ASSERT_EQ(f.tensors().size(), tensors.size());
  std::map<std::string, int> type_counts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorInfo& ti = f.tensors()[i];
    const auto& r = tensors[i];
    ASSERT_EQ(ti.name, r["name"].get<std::string>());
    EXPECT_EQ(uint32_t(ti.type), r["type"].get<uint32_t>()) << ti.name;
    EXPECT_EQ(ti.shape, r["shape"].get<Shape>()) << ti.name;
    EXPECT_EQ(ti.nbytes, r["nbytes"].get<size_t>()) << ti.name;
    EXPECT_EQ(ti.offset, r["offset"].get<uint64_t>()) << ti.name;
    ++type_counts[ggml_type_name(ti.type)];

    const Tensor t = f.load_f32(ti);
    ASSERT_EQ(t.shape, ti.shape);
    double sum = 0, sumsq = 0, sumabs = 0;
    for (float v : t.data) {
      sum += v;
      sumsq += double(v) * v;
      sumabs += std::fabs(double(v));
    }
    EXPECT_NEAR(sum, r["sum"].get<double>(), 1e-8 * sumabs) << ti.name;
    EXPECT_NEAR(sumsq, r["sumsq"].get<double>(), 1e-8 * sumsq) << ti.name;
    const std::vector<float> want = test::floats_from_hex(r["sample"]);
    const auto pos = r["sample_pos"].get<std::vector<int64_t>>();
    ASSERT_EQ(pos.size(), want.size());
    for (size_t k = 0; k < pos.size(); ++k)
      EXPECT_EQ(test::bits(t.data[size_t(pos[k])]), test::bits(want[k]))
          << ti.name << " element " << pos[k] << ": " << t.data[size_t(pos[k])] << " vs " << want[k];
  }
  // What this teacher holds (tied embeddings: no output.weight).
  EXPECT_EQ(type_counts["q4_1"], 210);
  EXPECT_EQ(type_counts["q8_0"], 1);
  EXPECT_EQ(type_counts["f32"], 61);
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);
}

TEST(RealModelGguf, RewriteIsByteIdentical) {
  REQUIRE_MODEL(path);
  test::TempDir dir;
  const std::string out = dir.file("rewrite.gguf");
  {
    GgufFile f(path);
    GgufWriter w;
    for (const auto& [k, v] : f.metadata()) w.set(k, v);
    for (const GgufTensorInfo& t : f.tensors()) {
      const auto b = f.tensor_bytes(t);
      w.add_tensor(t.name, t.type, t.shape, std::vector<uint8_t>(b.begin(), b.end()));
    }
    w.write(out);
  }
  const MappedFile a(path), b(out);
  ASSERT_EQ(a.bytes().size(), b.bytes().size());
  const auto mismatch = std::mismatch(a.bytes().begin(), a.bytes().end(), b.bytes().begin());
  EXPECT_TRUE(mismatch.first == a.bytes().end())
      << "first differing byte at " << (mismatch.first - a.bytes().begin());
}

// Cuts through the header (every few hundred bytes and around the tensor
// infos) and through the data; all must be rejected with the path.
TEST(RealModelGguf, TruncatedCopiesAreRejected) {
  REQUIRE_MODEL(path);
  const MappedFile m(path);
  const auto bytes = m.bytes();
  const size_t data_start = reference()["data_offset"].get<size_t>();
  std::vector<size_t> cuts = {0, 3, 4, 7, 8, 16, 23, 24, 25, 100, 4096, data_start - 1, data_start,
                              data_start + 1, data_start + 15000000 /* inside token_embd */,
                              bytes.size() - 1};
  for (size_t n = 1; n < data_start; n += data_start / 37) cuts.push_back(n);
  test::TempDir dir;
  const std::string cut = dir.file("cut.gguf");
  for (size_t n : cuts) {
    test::write_all(cut, bytes.data(), n);
    try {
      GgufFile g(cut);
      ADD_FAILURE() << "cut at " << n << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(cut + ": ", 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace radlads
