// The interface every runnable model offers to eval, infer and the CLI: score
// sequences from a fresh state, or decode step by step with a per-sequence
// state (a KV cache for the teacher, a constant-size recurrent state for the
// students).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/byte_reader.h"
#include "models/model.h"

namespace radlads {

class DecodeState {
 public:
  virtual ~DecodeState() = default;
  // Feeds T tokens; writes the logits (V) after the last one when non-null.
  virtual void feed(const int32_t* tokens, int T, float* last_logits) = 0;
  // Feeds T tokens and writes the logits (T,V) after each of them.
  virtual void feed_all(const int32_t* tokens, int T, float* logits) = 0;
  // An independent copy (n completions of one prompt fork its state).
  virtual std::unique_ptr<DecodeState> clone() const = 0;
  // The state as bytes, and back into a fresh state of the same model (a
  // server's kept sessions outlive a restart). load throws Error naming r's
  // file when the bytes do not fit this state.
  virtual void save(std::string& out) const = 0;
  virtual void load(ByteReader& r) = 0;
  virtual int n_past() const = 0;
  virtual size_t state_bytes() const = 0;
};

// How inference holds the weights: as loaded (fp32), or every linear layer's
// weight in another format (Backend::FrozenWeights: f16, bf16, q8_0, q4_0),
// its fp32 copy then returned to the system.
struct InferOptions {
  std::optional<WeightFormat> weights;
  // A teacher's weights kept as its file stores them (GGUF blocks of any type,
  // K-quants included; models/stored_weights.h), multiplied block by block;
  // decoded tokens meet the types with integer kernels as llama.cpp's CPU
  // does, inputs quantized to Q8_0 (backend/cpu/stored_matmul.h).
  bool stored = false;
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  virtual const Model& model() const = 0;
  // The linear layers' weights as held (null: fp32 as loaded).
  virtual const Backend::FrozenWeights* frozen() const { return nullptr; }
  int n_vocab() const { return model().cfg.n_vocab; }
  // logits (B,T,V) for B independent sequences tokens (B,T), each from a fresh state.
  virtual void score(const int32_t* tokens, int B, int T, float* logits) = 0;
  // A fresh decoding state with room for n_ctx tokens.
  virtual std::unique_ptr<DecodeState> new_state(int n_ctx) = 0;
  // One token for each of B sequences at once (states from this model's
  // new_state), the logits (B,V) after it: one matmul per weight for the
  // whole batch (continuous batching steps every active sequence this way).
  // (The default feeds them one by one.)
  virtual void step(DecodeState* const* states, const int32_t* tokens, int B, float* logits);
};

// Feeds tokens[0, n) into st in blocks of at most `rows` positions and hands
// each block's next-token distributions to score(t0, count, logits): row i of
// logits (count, V) is the distribution over token t0 + i given the tokens
// before it (t0 ≥ 1: the first token has none, and st must be fresh for that to
// hold). The logits after the last token end in last_logits (V, nullable).
// scratch is resized to (rows + 1, V) and reused across calls. Scoring a text
// this way never holds its (n, V) logits.
void feed_scoring(DecodeState& st, int V, const int32_t* tokens, int n, int rows, std::vector<float>& scratch,
                  const std::function<void(int t0, int count, const float* logits)>& score, float* last_logits);

// Loads the model at path and wraps it in the implementation its architecture
// needs, computing on be.
std::unique_ptr<LanguageModel> open_language_model(const Backend& be, const std::string& path,
                                                   const InferOptions& o = {});
// Wraps an already loaded model (which the result then owns).
std::unique_ptr<LanguageModel> make_language_model(const Backend& be, Model m, const InferOptions& o = {});

}  // namespace radlads
