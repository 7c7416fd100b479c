// A server's kept sessions on disk (`serve --session-dir DIR`): written when
// the server stops, read when it starts, so that a restart keeps them. One
// file per session, <hash of the id>.session, written atomically:
//   "RADLADS-SESSION 1\n", one JSON line {id, model, history, vocab}, then the
//   history (int32 each), the logits after it (float32 × vocab) and the
//   model's own state bytes (DecodeState::save).
// "model" is a fingerprint of the weights and shapes: a file of another
// model is skipped (with a line saying so), never loaded into the wrong one.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "infer/language_model.h"

namespace radlads::serve {

struct StoredSession {
  std::string id;
  std::vector<int32_t> history;
  std::vector<float> logits;  // after the last token of history
  std::unique_ptr<DecodeState> state;
};

// Shapes, architecture and a CRC of the embedding table (which every format keeps).
std::string model_fingerprint(const LanguageModel& lm);

// Writes one session (temporary file + rename); throws Error naming the path.
void save_session(const std::string& dir, const std::string& fingerprint, const std::string& id,
                  const std::vector<int32_t>& history, const std::vector<float>& logits, const DecodeState& state);
// Removes the session files of dir not among keep (sessions evicted since).
void remove_other_sessions(const std::string& dir, const std::vector<std::string>& keep);
// Every session of dir written for this model, into states with room for
// n_ctx tokens; damaged files and other models' are reported on log and skipped.
std::vector<StoredSession> load_sessions(const std::string& dir, LanguageModel& lm, int n_ctx, std::FILE* log);

}  // namespace radlads::serve
