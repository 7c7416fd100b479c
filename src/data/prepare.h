// Text files -> tokenized training data, the Data paragraph of the protocol:
// each document tokenized without special-token parsing, EOS appended, split
// into train and held-out binidx pairs.
//   OUT/train.{bin,idx}, OUT/heldout.{bin,idx}, OUT/meta.json
// OUT is built in a temporary sibling folder and renamed into place at the
// end, so it exists complete or not at all.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/binidx.h"

namespace radlads {

class Tokenizer;

struct PrepareOptions {
  // Document k (0-based, over all inputs in order) is held out when
  // k % heldout_every == 0: documents 0, N, 2N, ... With at least two
  // documents both splits are non-empty. 0 = no held-out split (heldout.*
  // are still written, empty). 1 is refused (it would leave no training data).
  int64_t heldout_every = 50;
  std::string tokenizer_path;  // recorded in meta.json
  int64_t batch_bytes = 32 << 20;  // text tokenized in parallel at once (memory bound, not results)
};

struct SplitCounts {
  int64_t docs = 0, tokens = 0;
};

struct PrepareResult {
  SplitCounts train, heldout;
  TokenDtype dtype = TokenDtype::u16;
  int64_t files = 0, text_bytes = 0;
  double seconds = 0;
  // How the input became documents, for the report and meta.json: "files"
  // (each plain file one document, each JSONL line one), "paragraphs" (a
  // single plain-text input with a held-out split, cut at blank lines) or
  // "tail" (such an input without a blank line: its last 1/heldout_every of
  // tokens are held out).
  std::string documents = "files";
};

// A single plain-text input (not JSONL) with heldout_every > 0 is cut into
// documents at blank lines, so that one large text file (the common case)
// works without flags; the result says so. Throws Error when out_dir exists,
// an input is bad (naming file or file:line), the tokenizer has no EOS, or
// there are fewer than two documents while heldout_every > 0; nothing is left
// behind on failure.
PrepareResult prepare_dataset(const Tokenizer& tokenizer, const std::vector<std::string>& inputs,
                              const std::string& out_dir, const PrepareOptions& options);

}  // namespace radlads
