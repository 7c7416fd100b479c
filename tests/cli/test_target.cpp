// The deployment choice up front (--target): a default student llama.cpp
// cannot run says so when it is made, not at export after a conversion;
// --target llama.cpp picks options llama.cpp's graphs compute, so that its
// student exports, and refuses at once a teacher that makes that impossible.
#include <gtest/gtest.h>

#include <filesystem>

#include "models/golden_models.h"
#include "test_util.h"

namespace radlads {
using namespace test;

TEST(Target, DefaultRwkv7WarnsAtInitAndLlamaCppTargetExports) {
  TempDir tmp;
  const std::string llama = golden_model("llama");  // H·N = C, no biases
  auto r = run_cli("init --teacher " + llama + " --arch rad-rwkv7 --out " + tmp.file("paper"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("will not export to llama.cpp GGUF (use_rope=1"), std::string::npos) << r.out;
  r = run_cli("export " + tmp.file("paper") + " --format gguf --out " + tmp.file("paper.gguf"));
  EXPECT_EQ(r.status, 2) << r.out;

  for (const char* arch : {"rad-rwkv6", "rad-rwkv7"}) {
    const std::string out = tmp.file(std::string("cpp-") + arch);
    r = run_cli("init --teacher " + llama + " --arch " + arch + " --target llama.cpp --out " + out);
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(r.out.find("will not export"), std::string::npos) << r.out;
    r = run_cli("export " + out + " --format gguf --out " + out + ".gguf");
    EXPECT_EQ(r.status, 0) << arch << ": " << r.out;
    EXPECT_TRUE(std::filesystem::exists(out + ".gguf")) << arch;
  }
}

TEST(Target, LlamaCppTargetRefusesWhatItCannotRun) {
  TempDir tmp;
  const std::string qwen = golden_model("qwen2");  // q/k/v biases: arwkv7 has none
  auto r = run_cli("init --teacher " + qwen + " --arch rad-rwkv7 --target llama.cpp --out " + tmp.file("s"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("biases"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(tmp.file("s")));
  // An explicit option llama.cpp cannot run is refused too, not silently changed.
  r = run_cli("init --teacher " + golden_model("llama") + " --arch rad-rwkv6 --target llama.cpp --use-rope 1 --out " +
              tmp.file("s"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("use_rope=1"), std::string::npos) << r.out;
  // rwkv6qwen2 has q/k/v biases: the Qwen2 teacher's student exports.
  r = run_cli("init --teacher " + qwen + " --arch rad-rwkv6 --target llama.cpp --out " + tmp.file("v6"));
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli("export " + tmp.file("v6") + " --format gguf --out " + tmp.file("v6.gguf"));
  EXPECT_EQ(r.status, 0) << r.out;
}

}  // namespace radlads
