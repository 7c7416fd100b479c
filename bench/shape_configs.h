// The teachers the GPU benchmarks build at real models' shapes (random
// weights): SmolLM2-135M and Qwen2.5-1.5B, as their config.json say.
#pragma once

#include <string>

#include "core/error.h"
#include "models/teacher_config.h"

namespace radlads::bench {

inline TeacherConfig shape_config(const std::string& shape) {
  TeacherConfig c;
  c.n_ctx_train = 32768;
  c.tie_embeddings = true;
  if (shape == "smollm2-135m") {
    c.arch = "llama", c.n_layer = 30, c.n_embd = 576, c.n_head = 9, c.n_head_kv = 3, c.head_dim = 64;
    c.n_ff = 1536, c.n_vocab = 49152, c.rope_theta = 100000, c.rms_eps = 1e-5;
  } else if (shape == "qwen2.5-1.5b") {
    c.arch = "qwen2", c.n_layer = 28, c.n_embd = 1536, c.n_head = 12, c.n_head_kv = 2, c.head_dim = 128;
    c.n_ff = 8960, c.n_vocab = 151936, c.rope_theta = 1e6, c.rms_eps = 1e-6, c.attn_bias = true;
  } else {
    fail("unknown --shape {} (smollm2-135m, qwen2.5-1.5b)", shape);
  }
  return c;
}

}  // namespace radlads::bench
