// Byte-level BPE tokenizer that produces the same ids as llama.cpp (and HF
// tokenizers) for the pre-tokenizers we support: special-token partition,
// pre-tokenizer, GPT-2 byte mapping, merges by rank.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/pretokenizer.h"
#include "text/tokenizer_spec.h"

namespace radlads {

class Tokenizer {
 public:
  // Validates the spec (byte-level BPE only, ids in range, merges between
  // existing tokens, a known pre-tokenizer or explicit regexes); throws Error.
  explicit Tokenizer(TokenizerSpec spec);

  // Text to ids; never adds BOS. With parse_special, the text of every
  // CONTROL, USER_DEFINED or UNKNOWN token is emitted as its id, longest
  // tokens first, leftmost occurrence first (llama.cpp's
  // tokenizer_st_partition); the text between goes through pre-tokenizer and
  // BPE. Without it, USER_DEFINED tokens are still split out (llama.cpp and
  // HF do the same for non-special added tokens); CONTROL/UNKNOWN are text.
  // Invalid UTF-8 is not an error: each malformed byte is encoded as U+FFFD
  // (llama.cpp's behaviour), so decode(encode(x)) == x only for valid UTF-8.
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;

  // Concatenated bytes of the tokens: special tokens give their text, others
  // their byte-level characters mapped back to bytes. Byte-exact; the result
  // may be invalid UTF-8 when ids split a character. Throws Error on an id
  // out of range.
  std::string decode(std::span<const int32_t> ids) const;
  const std::string& piece(int32_t id) const;  // decoded bytes of one token

  int32_t n_vocab() const { return int32_t(spec_.tokens.size()); }
  int32_t bos() const { return spec_.bos_id; }
  int32_t eos() const { return spec_.eos_id; }
  const TokenizerSpec& spec() const { return spec_; }
  // Id of a token by its vocabulary text (byte-level form for normal tokens,
  // raw text for special ones), -1 when absent. E.g. token_id("<|im_end|>").
  int32_t token_id(std::string_view text) const;
  bool is_special(int32_t id) const;  // CONTROL, USER_DEFINED or UNKNOWN

  // BPE of one pre-tokenized piece (raw UTF-8 bytes), appended to out.
  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;  // -1 when left+right is not itself a token
  };
  void encode_text(std::string_view text, std::vector<int32_t>& out) const;

  TokenizerSpec spec_;
  PreTokenizer pre_;
  bool ignore_merges_ = false;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left id << 32 | right id) -> merge
  int32_t byte_token_[256];                     // token of each single byte-level char, or -1
  std::vector<int32_t> special_by_length_;      // partition order: longest first
  std::vector<std::string> pieces_;             // decoded bytes per token
};

// Tokens that end a turn: the model's EOS, and the chat templates'
// end-of-turn pieces (llama.cpp calls these EOG).
bool ends_generation(const Tokenizer& tok, int32_t id);

}  // namespace radlads
