// The tiny golden teachers of scripts/golden_tiny_teacher.py (numpy oracle),
// built once per test run into a temporary folder, shared by model tests.
#pragma once

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "test_util.h"

namespace radlads::test {

// Builds the tiny golden models once per test binary run.
inline const std::string& golden_dir() {
  static TempDir dir;
  static bool built = [] {
    std::string cmd = std::string("python3 ") + RADLADS_SOURCE_DIR +
                      "/scripts/golden_tiny_teacher.py " + dir.path.string();
    return std::system(cmd.c_str()) == 0;
  }();
  EXPECT_TRUE(built) << "scripts/golden_tiny_teacher.py failed (needs numpy and gguf: run scripts/setup.sh)";
  static std::string s = dir.path.string();
  return s;
}

inline std::vector<int32_t> golden_tokens(const std::string& name) {
  auto j = nlohmann::json::parse(read_text_file(golden_dir() + "/" + name + ".tokens.json"));
  return j.get<std::vector<int32_t>>();
}

inline std::vector<float> golden_logits(const std::string& name) {
  std::string bytes = read_text_file(golden_dir() + "/" + name + ".logits.f32");
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

inline std::string golden_model(const std::string& name) {
  return golden_dir() + (name == "qwen2" ? "/qwen2" : "/llama.gguf");
}
}  // namespace radlads::test
