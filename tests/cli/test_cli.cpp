// The radlads binary end to end: the real teacher's facts, and every kind of
// bad input giving exit status 2 with one line naming the file.
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/cpu.h"
#include "core/file_io.h"
#include "models/golden_models.h"
#include "test_util.h"

namespace radlads {
using namespace test;

static nlohmann::json last_json_line(const std::string& out) {
  auto end = out.find_last_not_of('\n');
  auto start = out.rfind('\n', end);
  return nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start + 1, end - start));
}

TEST(RealModelCli, InspectReportsSmolLM2) {
  auto r = run_cli("inspect " + teacher_path() + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = last_json_line(r.out);
  EXPECT_EQ(j["arch"], "llama");
  EXPECT_EQ(j["n_layer"], 30);
  EXPECT_EQ(j["n_embd"], 576);
  EXPECT_EQ(j["n_head"], 9);
  EXPECT_EQ(j["n_head_kv"], 3);
  EXPECT_EQ(j["n_ff"], 1536);
  EXPECT_EQ(j["n_vocab"], 49152);
  // 134.5 M: the parameter count HF reports for SmolLM2-135M (tied head counted once).
  EXPECT_EQ(j["n_params"], 134515008);
}

TEST(RealModelCli, PerplexityOnHeldOutTextIsSane) {
  TempDir tmp;
  // A fixed English paragraph repeated: the model must find it easy after the first copy.
  std::string text;
  for (int i = 0; i < 12; i++)
    text += "The quick brown fox jumps over the lazy dog. Python is a programming language that lets you "
            "work quickly and integrate systems more effectively.\n";
  std::ofstream(tmp.file("t.txt")) << text;
  auto r = test::run_cli_stdout("perplexity " + teacher_path() + " --file " + tmp.file("t.txt") + " --ctx 64 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);  // with --json stdout is exactly one document
  EXPECT_GT(j["tokens"].get<int>(), 100);
  EXPECT_GT(j["ppl"].get<double>(), 1.0);
  // Repeated text at ctx 64 (about two copies per window): 7.0 measured; a broken
  // forward scores in the thousands (an untrained student: ~1e5).
  EXPECT_LT(j["ppl"].get<double>(), 10.0);
}

// --dtype stored keeps the teacher's Q4_1 blocks (multiplied block by block):
// the same perplexity as the fp32 expansion; a student is refused with exit 2.
TEST(RealModelCli, StoredWeightsScoreAsTheFp32Expansion) {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 6; i++) text += "The quick brown fox jumps over the lazy dog. Rivers flow into the sea.\n";
  std::ofstream(tmp.file("t.txt")) << text;
  double ppl[2];
  for (int i = 0; i < 2; i++) {
    auto r = test::run_cli_stdout("perplexity " + teacher_path() + " --file " + tmp.file("t.txt") +
                                  " --ctx 32 --json --dtype " + (i ? "stored" : "f32"));
    ASSERT_EQ(r.status, 0) << r.out;
    ppl[i] = nlohmann::json::parse(r.out).at("ppl").get<double>();
  }
  EXPECT_NEAR(ppl[1], ppl[0], 1e-5 * ppl[0]);
  ASSERT_EQ(run_cli("init --teacher " + teacher_path() + " --arch rad-rwkv6 --out " + tmp.file("s")).status, 0);
  auto r = run_cli("perplexity " + tmp.file("s") + " --file " + tmp.file("t.txt") + " --ctx 32 --dtype stored");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--dtype stored keeps a teacher's file blocks"), std::string::npos) << r.out;
}

TEST(RealModelCli, GreedyChatAnswersInEnglish) {
  auto r = run_cli("generate " + teacher_path() +
                   " --chat --temp 0 --max-tokens 16 --prompt \"What is the capital of France?\"");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Paris"), std::string::npos) << r.out;
}

TEST(Cli, BadInputExitsWithStatus2AndOneLine) {
  TempDir tmp;
  std::ofstream(tmp.file("junk.gguf")) << "this is not a model";
  std::ofstream(tmp.file("ids.txt")) << "1 2 banana";
  std::filesystem::create_directories(tmp.file("emptydir"));
  std::filesystem::create_directories(tmp.file("badcfg"));
  std::ofstream(tmp.file("badcfg/config.json")) << "{\"model_type\": ";
  struct Case {
    std::string args, needle;
  };
  const std::string qwen = golden_model("qwen2");
  std::vector<Case> cases = {
      {"inspect " + tmp.file("junk.gguf"), tmp.file("junk.gguf")},
      {"inspect " + tmp.file("missing.gguf"), tmp.file("missing.gguf")},
      {"inspect " + tmp.file("emptydir"), tmp.file("emptydir")},
      {"inspect " + tmp.file("badcfg"), "config.json"},
      {"score " + qwen + " --ids-file " + tmp.file("ids.txt") + " --logits-out " + tmp.file("o.npy"), "banana"},
      {"perplexity " + qwen + " --file " + tmp.file("nofile.txt"), tmp.file("nofile.txt")},
      {"export " + qwen + " --format gguf --dtype q9 --out " + tmp.file("x.gguf"), "dtype"},
      {"init --teacher " + qwen + " --arch rad-rwkv9 --out " + tmp.file("s"), "arch"},
      {"inspect", "model"},
      {"--backend tpu inspect " + qwen, "unknown backend 'tpu'"},
      {"--backend cuda:x inspect " + qwen, "bad backend 'cuda:x'"},
  };
  for (auto& c : cases) {
    auto r = run_cli(c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.needle), std::string::npos) << c.args << "\n" << r.out;
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.file("o.npy")));
  EXPECT_FALSE(std::filesystem::exists(tmp.file("s")));
  // The GPU backend: refused in one line whichever the reason here (no CUDA
  // in the build, no GPU visible, or a command that does not run on one).
  auto r = run_cli("--backend cuda inspect " + qwen);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_TRUE(r.out.find("no CUDA backend") != std::string::npos ||
              r.out.find("no CUDA GPU is visible") != std::string::npos ||
              r.out.find("`inspect` does not compute on a GPU") != std::string::npos)
      << r.out;
}

TEST(Cli, InitScoreAndExportOnTinyTeacher) {
  TempDir tmp;
  const std::string qwen = golden_model("qwen2");
  for (const char* arch : {"rad-rwkv6", "rad-rwkv7"}) {
    const std::string out = tmp.file(arch);
    auto r = run_cli("init --teacher " + qwen + " --arch " + arch + " --out " + out);
    ASSERT_EQ(r.status, 0) << r.out;
    r = run_cli("inspect " + out + " --json");
    ASSERT_EQ(r.status, 0) << r.out;
    std::ofstream(tmp.file("ids.txt")) << "1 2 3 4 5";
    r = run_cli("score " + out + " --ids-file " + tmp.file("ids.txt") + " --logits-out " + tmp.file("l.npy"));
    ASSERT_EQ(r.status, 0) << r.out;
    // Exported to an HF folder, the student scores the same logits.
    r = run_cli("export " + out + " --format hf --out " + out + "-hf");
    ASSERT_EQ(r.status, 0) << r.out;
    r = run_cli("score " + out + "-hf --ids-file " + tmp.file("ids.txt") + " --logits-out " + tmp.file("l2.npy"));
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(read_text_file(tmp.file("l.npy")), read_text_file(tmp.file("l2.npy"))) << arch;
    // To GGUF: RAD-RWKV6 exports; the default RAD-RWKV7 (RoPE, balance_state)
    // is refused in one line, since llama.cpp's arwkv7 cannot run it.
    r = run_cli("export " + out + " --format gguf --out " + out + ".gguf");
    if (std::string(arch) == "rad-rwkv6") {
      ASSERT_EQ(r.status, 0) << r.out;
      EXPECT_TRUE(std::filesystem::exists(out + ".gguf"));
    } else {
      EXPECT_EQ(r.status, 2) << r.out;
      EXPECT_FALSE(std::filesystem::exists(out + ".gguf"));
    }
  }
}

}  // namespace radlads

namespace radlads {

// `radlads system --json`: stdout is exactly one JSON document; the kernel set
// follows RADLADS_ISA (oneDNN with it), and a bad value is a one-line error
// with exit 2.
TEST(Cli, SystemReportsKernelsAsOneJsonDocument) {
  auto stdout_of = [](const std::string& env) {
    const test::RunResult r = test::run_shell(env + " " + RADLADS_BIN + " system --json 2>/dev/null");
    EXPECT_EQ(r.status, 0);
    return r.out;
  };
  const nlohmann::json j = nlohmann::json::parse(stdout_of(""));  // throws on anything but one document
  EXPECT_EQ(j.at("kernels"), isa_name(best_isa()));
  EXPECT_NE(j.at("sgemm").get<std::string>().find("oneDNN"), std::string::npos);
  EXPECT_EQ(j.at("cpu").at("brand"), cpu_features().brand);
  const nlohmann::json j2 = nlohmann::json::parse(stdout_of("RADLADS_ISA=avx2"));
  EXPECT_EQ(j2.at("kernels"), "avx2");
  EXPECT_NE(j2.at("sgemm").get<std::string>().find("(avx2)"), std::string::npos) << "oneDNN follows the switch";
  const test::RunResult bad = test::run_shell("RADLADS_ISA=sse " + std::string(RADLADS_BIN) + " system 2>&1");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("radlads: error: RADLADS_ISA=sse: unknown kernel set"), std::string::npos) << bad.out;
  // The engine section names the backend the context selected.
  EXPECT_EQ(j.at("engine").at("backend"), "cpu");
  const test::RunResult r3 =
      test::run_shell(std::string(RADLADS_BIN) + " --backend cpu --threads 1 system --json 2>/dev/null");
  ASSERT_EQ(r3.status, 0);
  const nlohmann::json j3 = nlohmann::json::parse(r3.out);
  EXPECT_EQ(j3.at("engine").at("backend"), "cpu");
  EXPECT_EQ(j3.at("engine").at("threads"), 1);
}

// With --json, stdout is exactly one JSON document (the table goes to stderr),
// for a teacher and for a student.
TEST(Cli, InspectJsonStdoutIsOneDocument) {
  test::TempDir tmp;
  const std::string teacher = golden_model("qwen2"), student = tmp.file("s");
  ASSERT_EQ(test::run_cli("init --teacher " + teacher + " --arch rad-rwkv7 --out " + student).status, 0);
  for (const std::string& m : {teacher, student}) {
    const test::RunResult r = test::run_shell(std::string(RADLADS_BIN) + " inspect " + m + " --json 2>/dev/null");
    ASSERT_EQ(r.status, 0);
    const nlohmann::json j = nlohmann::json::parse(r.out);  // throws unless exactly one document
    EXPECT_EQ(j.at("student_arch"), m == student ? "rad-rwkv7" : "") << m;
  }
}

}  // namespace radlads
