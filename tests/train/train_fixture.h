// A tiny conversion setup for training tests: the golden Qwen2 teacher
// (scripts/golden_tiny_teacher.py) and a random-token data folder in the
// layout `radlads data prepare` writes (train.* and heldout.* binidx).
#pragma once

#include <random>
#include <string>
#include <vector>

#include "data/binidx.h"
#include "models/golden_models.h"
#include "models/model.h"
#include "test_util.h"

namespace radlads::test {

inline void write_random_binidx(const std::string& prefix, int docs, int doc_len, int vocab, uint64_t seed) {
  std::mt19937_64 g(seed);
  BinidxWriter w(prefix, dtype_for_vocab(vocab));
  std::vector<int32_t> d(static_cast<size_t>(doc_len));
  for (int i = 0; i < docs; i++) {
    // Repeating patterns, so that there is something learnable.
    const int period = 2 + int(g() % 5);
    for (int t = 0; t < doc_len; t++) d[size_t(t)] = int32_t((t % period) * 7 + int(g() % 3)) % vocab;
    w.add_document(d);
  }
  w.finish();
}

// Writes DIR/train.* and DIR/heldout.* for the golden teacher's vocabulary.
inline std::string tiny_data(const TempDir& tmp) {
  const Model t = open_model(golden_model("qwen2"));
  const std::string dir = tmp.file("data");
  std::filesystem::create_directories(dir);
  write_random_binidx(dir + "/train", 40, 97, t.cfg.n_vocab, 1);
  write_random_binidx(dir + "/heldout", 3, 65, t.cfg.n_vocab, 2);
  return dir;
}

// `radlads convert` of the golden Qwen2 teacher into RAD-RWKV7 on data, into
// out; the caller appends budgets and shapes.
inline std::string tiny_convert(const std::string& data, const std::string& out) {
  return "convert --teacher " + golden_model("qwen2") + " --arch rad-rwkv7 --data " + data + " --out " + out;
}

}  // namespace radlads::test
