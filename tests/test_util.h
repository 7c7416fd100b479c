// Shared test helpers: where the cached teacher lives, scratch folders,
// running the radlads binary, and relative error measures.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/error.h"

namespace radlads::test {

inline std::string cache_dir() {
  const char* c = std::getenv("RADLADS_CACHE");
  if (c && *c) return c;
  const char* h = std::getenv("HOME");
  return std::string(h ? h : "/root") + "/.cache/radlads";
}

// The real teacher; tests that need it fail (never skip) when it is absent.
inline std::string teacher_path() {
  std::string p = cache_dir() + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(p))
    ADD_FAILURE() << p << " is missing: run scripts/setup.sh first";
  return p;
}

// The real Qwen2 teacher (Q4_K_M: Q4_K, Q5_0, Q6_K and Q8_0 tensors, q/k/v
// biases); absent fails like teacher_path().
inline std::string qwen_teacher_path() {
  std::string p = cache_dir() + "/models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf";
  if (!std::filesystem::exists(p))
    ADD_FAILURE() << p << " is missing: run scripts/setup.sh first";
  return p;
}

// A fresh folder under the build tree's temp space, removed at destruction.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() /
           ("radlads_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

struct RunResult {
  int status = -1;
  std::string out;  // stdout (run_cli: stdout and stderr together)
};

// Runs a shell command line; out is what it writes to stdout.
inline RunResult run_shell(const std::string& cmd) {
  RunResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Runs the radlads CLI with the given argument string (shell syntax); out has
// stdout and stderr together.
inline RunResult run_cli(const std::string& args) { return run_shell(std::string(RADLADS_BIN) + " " + args + " 2>&1"); }
// stdout alone (stderr discarded): what a --json consumer reads.
inline RunResult run_cli_stdout(const std::string& args) {
  return run_shell(std::string(RADLADS_BIN) + " " + args + " 2>/dev/null");
}

// ||a - b|| / max(||b||, tiny): the normalised error used across op tests.
template <typename A, typename B>
double rel_err(const A& a, const B& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < b.size(); i++) {
    double d = double(a[i]) - double(b[i]);
    num += d * d;
    den += double(b[i]) * double(b[i]);
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}

inline std::vector<float> randn(size_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

// The message of the radlads::Error thrown by f, or "" if none.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Restores the process's kernel set after a test that switches it (set_isa).
struct IsaRestore {
  Isa saved = active_isa();
  ~IsaRestore() { set_isa(saved); }
};

}  // namespace radlads::test
