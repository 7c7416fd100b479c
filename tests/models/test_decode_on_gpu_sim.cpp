// Inference on the CUDA backend's code (host emulation, "cuda-sim"): a
// teacher and students wrapped as LanguageModels compute from their upload
// (KV caches in device memory, host token ids and logits through device
// buffers) and give the CPU's logits for a window, a prompt fed into a
// decode state, batched steps of two sequences, and a state saved, loaded
// and cloned.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backend/gpu_sim/sim_backend.h"
#include "core/byte_reader.h"
#include "infer/language_model.h"
#include "models/random_student.h"

namespace radlads {
namespace {

void compare(const Model& m) {
  auto cpu = make_language_model(cpu_backend(), m);
  auto sim = make_language_model(test::sim_backend(), m);
  const int V = cpu->n_vocab();
  const std::vector<int32_t> toks = {5, 17, 2, 99, 41, 7, 63, 12};
  std::vector<float> a(size_t(2) * 4 * V), b(a.size());
  cpu->score(toks.data(), 2, 4, a.data());
  sim->score(toks.data(), 2, 4, b.data());
  EXPECT_LT(test::rel_err(b, a), 1e-5) << "score";

  auto ca = cpu->new_state(32), cb = cpu->new_state(32), sa = sim->new_state(32), sb = sim->new_state(32);
  std::vector<float> la(V), lb(V);
  ca->feed(toks.data(), 5, la.data());
  sa->feed(toks.data(), 5, lb.data());
  EXPECT_LT(test::rel_err(lb, la), 1e-5) << "prompt";
  cb->feed(toks.data() + 5, 3, nullptr);
  sb->feed(toks.data() + 5, 3, nullptr);
  std::vector<float> sa2(size_t(2) * V), sb2(sa2.size());
  for (int step = 0; step < 3; step++) {
    const int32_t next[2] = {int32_t(3 + step), int32_t(50 + step)};
    DecodeState* cs[2] = {ca.get(), cb.get()};
    DecodeState* ss[2] = {sa.get(), sb.get()};
    cpu->step(cs, next, 2, sa2.data());
    sim->step(ss, next, 2, sb2.data());
    EXPECT_LT(test::rel_err(sb2, sa2), 1e-5) << "step " << step;
  }
  // A state saved and loaded into a fresh one, and a clone, go on identically.
  std::string bytes;
  sa->save(bytes);
  auto loaded = sim->new_state(32);
  ByteReader r(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "state");
  loaded->load(r);
  auto cloned = sa->clone();
  const int32_t t = 8;
  std::vector<float> x(V), y(V), z(V), w(V);
  ca->feed(&t, 1, x.data());
  sa->feed(&t, 1, y.data());
  loaded->feed(&t, 1, z.data());
  cloned->feed(&t, 1, w.data());
  EXPECT_LT(test::rel_err(y, x), 1e-5);
  EXPECT_EQ(z, y);
  EXPECT_EQ(w, y);
}

TEST(DecodeOnGpuSim, TeacherMatchesTheCpu) { compare(open_model(test::golden_model("qwen2"))); }

TEST(DecodeOnGpuSim, StudentsMatchTheCpu) {
  compare(test::random_student({StudentArch::RWKV6, "qwen2", 0, 1, 1, 0, 0}, 31));
  compare(test::random_student({StudentArch::RWKV7, "qwen2", 1, 0, 1, 0, 1}, 32));  // a hybrid: KV caches too
}

}  // namespace
}  // namespace radlads
