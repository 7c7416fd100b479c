// A hand-made byte-level BPE vocabulary for tokenizer tests: ids 0..255 are
// the GPT-2 byte-level characters of bytes 0..255, then one token per merge
// result, then any extra (special) tokens.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "text/tokenizer_spec.h"
#include "text/unicode.h"

namespace radlads::test {

// Raw text -> its byte-level spelling (" world" -> "Ġworld").
inline std::string bl(const std::string& raw) { return bytes_to_byte_level(raw); }

struct TinyVocab {
  TokenizerSpec spec;
  int32_t id(const std::string& token) const {
    for (size_t i = 0; i < spec.tokens.size(); ++i)
      if (spec.tokens[i] == token) return int32_t(i);
    return -1;
  }
  // Id of a token given by its raw text ("hello", " world").
  int32_t raw(const std::string& text) const { return id(bl(text)); }
};

// merges: pairs of raw texts, e.g. {"h", "e"}; each result is added as a token.
inline TinyVocab make_tiny_vocab(const std::vector<std::pair<std::string, std::string>>& merges,
                                 const std::string& pre = "gpt-2",
                                 const std::vector<std::pair<std::string, TokenType>>& extra = {}) {
  TinyVocab v;
  v.spec.model = "gpt2";
  v.spec.pre = pre;
  for (int b = 0; b < 256; ++b) v.spec.tokens.push_back(bl(std::string(1, char(b))));
  v.spec.token_types.assign(256, int32_t(TokenType::NORMAL));
  for (const auto& [a, b] : merges) {
    v.spec.merges.push_back(bl(a) + " " + bl(b));
    const std::string merged = bl(a + b);
    if (v.id(merged) < 0) {
      v.spec.tokens.push_back(merged);
      v.spec.token_types.push_back(int32_t(TokenType::NORMAL));
    }
  }
  for (const auto& [text, type] : extra) {
    v.spec.tokens.push_back(text);
    v.spec.token_types.push_back(int32_t(type));
  }
  return v;
}

}  // namespace radlads::test
