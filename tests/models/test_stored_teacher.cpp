// The frozen teacher in its stored precision (models/stored_weights.h) on the
// two real teachers: SmolLM2 (llama, Q4_1, q/k rows permuted in the file) and
// Qwen2.5-Coder-0.5B (Q4_K_M: Q4_K, Q5_0, Q6_K, Q8_0; q/k/v biases). Its
// logits equal the fp32 path's within 1e-4 relative for a prompt and for
// decoding steps, its fp32 copies are gone (they read as zeros) and the
// process's resident memory dropped by about what was freed.
#include <gtest/gtest.h>

#include <cstdio>

#include "backend/backend.h"
#include "core/sysinfo.h"
#include "models/stored_weights.h"
#include "models/teacher.h"
#include "test_util.h"

namespace radlads {
using namespace test;

namespace {

// Logits of a 40-token prompt, then of 3 single decoded tokens.
std::vector<float> logits_of(const Model& m) {
  Teacher t(cpu_backend(), m);
  const int T = 40, V = m.cfg.n_vocab;
  std::vector<int32_t> ids(T);
  for (int i = 0; i < T; i++) ids[size_t(i)] = int32_t((i * 7919 + 17) % 5000 + 100);
  KVCache cache(m.cfg, T + 3);
  std::vector<float> out(size_t(T + 3) * size_t(V));
  t.forward(ids.data(), 1, T, &cache, out.data(), LogitsMode::All);
  for (int s = 0; s < 3; s++)
    t.forward(&ids[size_t(s)], 1, 1, &cache, out.data() + size_t(T + s) * size_t(V), LogitsMode::All);
  return out;
}

void check_teacher(const std::string& path) {
  Model m = open_model(path);
  const std::vector<float> f32 = logits_of(m);
  const size_t rss0 = rss_bytes();
  const StoredReport r = hold_teacher_stored(m);
  const size_t rss1 = rss_bytes();
  size_t expect_freed = 0;
  EXPECT_EQ(r.stored_bytes, stored_teacher_bytes(path, &expect_freed)) << path;
  EXPECT_GT(r.weights, size_t(4 * m.cfg.n_layer)) << path;
  EXPECT_LT(r.stored_bytes * 3, r.freed_bytes) << path << ": stored blocks should be a fraction of fp32";
  EXPECT_GT(r.freed_bytes, expect_freed * 9 / 10) << path;
  // The fp32 copies are really gone: their pages read as zeros, and the
  // resident set shrank by at least half of what was freed (net of the blocks).
  const Tensor& q = m.w("model.layers.3.self_attn.q_proj.weight");
  EXPECT_EQ(q.ptr()[q.numel() / 2], 0.0f);
  EXPECT_GT(double(rss0) - double(rss1), 0.5 * double(r.freed_bytes) - double(r.stored_bytes)) << path;
  const std::vector<float> held = logits_of(m);
  const double e = rel_err(held, f32);
  std::printf("%s: %zu tensors held, %.1f MB of blocks for %.1f MB of fp32 freed, RSS %.1f -> %.1f MB, logits rel err %.2e\n",
              path.c_str(), r.weights, r.stored_bytes / 1e6, r.freed_bytes / 1e6, rss0 / 1e6, rss1 / 1e6, e);
  EXPECT_LT(e, 1e-4) << path;
}

}  // namespace

TEST(StoredTeacher, SmolLM2Q4_1EqualsTheFp32Path) { check_teacher(teacher_path()); }

TEST(StoredTeacher, QwenQ4_K_MEqualsTheFp32Path) { check_teacher(qwen_teacher_path()); }

}  // namespace radlads
