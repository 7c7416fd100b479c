// `radlads export` end to end on the tiny golden teachers: HF folders that load
// back with identical f32 logits (students and teachers, also from a student
// GGUF), GGUF files PyPI gguf's reader opens, and one-line refusals (exit 2).
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "models/random_student.h"
#include "backend/backend.h"
#include "models/hf_folder.h"
#include "infer/language_model.h"
#include "io/safetensors.h"

namespace radlads {
using namespace test;

namespace {

std::vector<float> logits_at(const std::string& path) {
  auto lm = open_language_model(cpu_backend(), path);
  auto ids = golden_tokens("qwen2");
  std::vector<float> out(ids.size() * size_t(lm->n_vocab()));
  lm->score(ids.data(), 1, int(ids.size()), out.data());
  return out;
}

}  // namespace

TEST(ExportCli, StudentHfFolderRoundTripIsExact) {
  TempDir tmp;
  save_model_hf(random_student({StudentArch::RWKV6, "qwen2"}, 21), tmp.file("s"));
  RunResult r = run_cli("export " + tmp.file("s") + " --format hf --out " + tmp.file("h"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(logits_at(tmp.file("h")), logits_at(tmp.file("s")));
}

// Round to nearest, ties to even, keeping bf16's 8 significand bits (the
// test's own rounding, independent of core/fp16.h).
float round_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) return x;  // Inf/NaN: none in a student
  const uint32_t lsb = (u >> 16) & 1u;
  u = (u + 0x7fffu + lsb) & 0xffff0000u;
  std::memcpy(&x, &u, 4);
  return x;
}

// bf16: every tensor stored bf16 holds exactly the rounded f32 weight, and the
// folder computes exactly what the f32 model computes on rounded weights.
TEST(ExportCli, StudentBf16FolderHoldsRoundedWeights) {
  TempDir tmp;
  Model m = random_student({StudentArch::RWKV6, "qwen2"}, 21);
  save_model_hf(m, tmp.file("s"));
  RunResult r = run_cli("export " + tmp.file("s") + " --format hf --dtype bf16 --out " + tmp.file("b"));
  ASSERT_EQ(r.status, 0) << r.out;
  SafetensorsFile f(tmp.file("b") + "/model.safetensors");
  int n_bf16 = 0;
  for (auto& [name, t] : m.weights) {
    const StTensorInfo* info = f.find(name);
    ASSERT_NE(info, nullptr) << name;
    if (info->dtype != StDtype::BF16) continue;
    n_bf16++;
    const Tensor got = f.load_f32(*info);
    for (size_t i = 0; i < t.data.size(); i++) {
      t.data[i] = round_bf16(t.data[i]);
      ASSERT_EQ(got.data[i], t.data[i]) << name << "[" << i << "]";
    }
  }
  EXPECT_GT(n_bf16, int(m.weights.size()) / 2) << "most tensors should be stored in bf16";
  save_model_hf(m, tmp.file("r"));  // f32 file, rounded weights
  EXPECT_EQ(logits_at(tmp.file("b")), logits_at(tmp.file("r")));
}

TEST(ExportCli, TeacherGgufToHfFolder) {
  TempDir tmp;
  RunResult r = run_cli("export " + golden_model("llama") + " --format hf --out " + tmp.file("t"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(logits_at(tmp.file("t")), logits_at(golden_model("llama")));
}

// student -> GGUF (llama.cpp) -> HF folder: the GGUF imports exactly.
TEST(ExportCli, StudentGgufImportsBack) {
  TempDir tmp;
  save_model_hf(random_student({StudentArch::RWKV6, "llama"}, 22), tmp.file("s"));
  RunResult r = run_cli("export " + tmp.file("s") + " --format gguf --out " + tmp.file("s.gguf"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("log-w clamp"), std::string::npos) << r.out;
  r = run_cli("export " + tmp.file("s.gguf") + " --format hf --out " + tmp.file("h"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(logits_at(tmp.file("h")), logits_at(tmp.file("s")));
  // Every command that runs a model opens the GGUF itself.
  EXPECT_EQ(logits_at(tmp.file("s.gguf")), logits_at(tmp.file("s")));
  r = run_cli("inspect " + tmp.file("s.gguf") + " --json");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("rad-rwkv6"), std::string::npos) << r.out;
  // An independent reader (PyPI gguf, llama.cpp's own Python package) opens it.
  std::string cmd = "python3 -c \"import gguf,sys; r=gguf.GGUFReader(sys.argv[1]); "
                    "assert bytes(r.fields['general.architecture'].parts[-1]).decode()=='rwkv6qwen2'; "
                    "assert len(r.tensors) > 0\" " + tmp.file("s.gguf");
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST(ExportCli, RefusalsAreOneLineExit2) {
  TempDir tmp;
  RunResult r = run_cli("init --teacher " + golden_model("llama") + " --arch rad-rwkv7 --out " + tmp.file("s7"));
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli("export " + tmp.file("s7") + " --format gguf --out " + tmp.file("x.gguf"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("use_rope=1"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_FALSE(std::filesystem::exists(tmp.file("x.gguf")));
  r = run_cli("export " + tmp.file("s7") + " --format hf --dtype q8_0 --out " + tmp.file("q"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_FALSE(std::filesystem::exists(tmp.file("q")));
  // The options under which arwkv7 computes our function do export.
  r = run_cli("init --teacher " + golden_model("llama") + " --arch rad-rwkv7 --use-rope 0 --balance-state 0 --out " +
              tmp.file("ok7"));
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli("export " + tmp.file("ok7") + " --format gguf --dtype q8_0 --out " + tmp.file("ok7.gguf"));
  EXPECT_EQ(r.status, 0) << r.out;
  std::string cmd = "python3 -c \"import gguf,sys; r=gguf.GGUFReader(sys.argv[1]); "
                    "assert bytes(r.fields['general.architecture'].parts[-1]).decode()=='arwkv7'\" " + tmp.file("ok7.gguf");
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace radlads
