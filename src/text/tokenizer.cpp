// Byte-level BPE: spec validation, special-token partition, merges by rank
// with a linked list of symbols and a priority queue, byte-exact decoding.
#include "text/tokenizer.h"

#include <algorithm>

#include "core/error.h"
#include "text/unicode.h"

namespace radlads {

namespace {

bool is_special_type(int32_t t) {
  return t == int32_t(TokenType::CONTROL) || t == int32_t(TokenType::USER_DEFINED) ||
         t == int32_t(TokenType::UNKNOWN);
}

// Byte-level text back to bytes; a character outside the GPT-2 map (possible
// only in hand-made vocabularies) is kept as its UTF-8 so nothing is lost.
std::string byte_level_to_bytes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (uint32_t cp : utf8_decode_lenient(s)) {
    const int b = cp_to_byte(cp);
    if (b >= 0)
      out.push_back(char(b));
    else
      utf8_append(out, cp);
  }
  return out;
}

uint64_t pair_key(int32_t a, int32_t b) { return uint64_t(uint32_t(a)) << 32 | uint32_t(b); }

}  // namespace

Tokenizer::Tokenizer(TokenizerSpec spec) : spec_(std::move(spec)), pre_({}) {
  auto& s = spec_;
  if (s.model != "gpt2") fail("tokenizer model '{}' is not supported (only byte-level BPE, 'gpt2')", s.model);
  const size_t n = s.tokens.size();
  if (n == 0) fail("tokenizer: empty vocabulary");
  if (n > size_t(INT32_MAX)) fail("tokenizer: vocabulary too large");
  if (s.token_types.empty()) s.token_types.assign(n, int32_t(TokenType::NORMAL));
  if (s.token_types.size() != n) fail("tokenizer: {} token types for {} tokens", s.token_types.size(), n);
  for (size_t i = 0; i < n; ++i)
    if (s.token_types[i] < 0 || s.token_types[i] > int32_t(TokenType::BYTE))
      fail("tokenizer: token {} has unknown type {}", i, s.token_types[i]);
  const std::pair<const char*, int32_t> specials[] = {
      {"bos", s.bos_id}, {"eos", s.eos_id}, {"unknown", s.unk_id}, {"padding", s.pad_id}};
  for (auto [name, id] : specials)
    if (id < -1 || id >= int64_t(n)) fail("tokenizer: {} token id {} out of range [0, {})", name, id, n);

  token_to_id_.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    if (s.tokens[i].empty()) continue;  // cannot match anything; llama.cpp renames it
    auto [it, inserted] = token_to_id_.emplace(s.tokens[i], int32_t(i));
    if (!inserted) fail("tokenizer: duplicate token '{}' at ids {} and {}", s.tokens[i], it->second, i);
  }

  merges_.reserve(s.merges.size() * 2);
  for (size_t r = 0; r < s.merges.size(); ++r) {
    const std::string& m = s.merges[r];
    // Split at the first space after the first character, as llama.cpp does
    // (a byte-level token never contains a raw space, but be exact anyway).
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos) fail("tokenizer: merge {} '{}' is not 'left right'", r, m);
    const std::string left = m.substr(0, sp), right = m.substr(sp + 1);
    const int32_t a = token_id(left), b = token_id(right);
    if (a < 0 || b < 0)
      fail("tokenizer: merge {} '{}' refers to a missing token '{}'", r, m, a < 0 ? left : right);
    // The first occurrence of a pair wins: its rank is the lowest.
    merges_.emplace(pair_key(a, b), Merge{int32_t(r), token_id(left + right)});
  }

  for (int b = 0; b < 256; ++b) {
    std::string ch;
    utf8_append(ch, byte_to_cp(uint8_t(b)));
    byte_token_[b] = token_id(ch);
  }

  if (s.pre_regexes.empty()) {
    s.pre_regexes = pretokenizer_regexes(s.pre.empty() ? "default" : s.pre);
    if (s.pre_regexes.empty())
      fail("tokenizer: unknown pre-tokenizer '{}' (known: qwen2, smollm, llama-bpe, gpt-2, default)", s.pre);
  }
  pre_ = PreTokenizer(s.pre_regexes);
  ignore_merges_ = pretokenizer_ignores_merges(s.pre);

  for (size_t i = 0; i < n; ++i)
    if (is_special_type(s.token_types[i]) && !s.tokens[i].empty()) special_by_length_.push_back(int32_t(i));
  // Longest first so that a token containing another wins; ties by id keep
  // the order deterministic (llama.cpp's std::sort leaves it unspecified).
  std::stable_sort(special_by_length_.begin(), special_by_length_.end(), [&](int32_t a, int32_t b) {
    return s.tokens[size_t(a)].size() > s.tokens[size_t(b)].size();
  });

  pieces_.resize(n);
  for (size_t i = 0; i < n; ++i)
    pieces_[i] = is_special_type(s.token_types[i]) ? s.tokens[i] : byte_level_to_bytes(s.tokens[i]);
}

int32_t Tokenizer::token_id(std::string_view text) const {
  auto it = token_to_id_.find(std::string(text));
  return it == token_to_id_.end() ? -1 : it->second;
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < n_vocab() && is_special_type(spec_.token_types[size_t(id)]);
}

const std::string& Tokenizer::piece(int32_t id) const {
  if (id < 0 || id >= n_vocab()) fail("token id {} out of range [0, {})", id, n_vocab());
  return pieces_[size_t(id)];
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) out += piece(id);
  return out;
}

void Tokenizer::encode_piece(std::string_view bytes, std::vector<int32_t>& out) const {
  const size_t n = bytes.size();
  if (n == 0) return;
  // Symbols that are not tokens fall back to one token per byte of their
  // byte-level text whose single byte is a token, dropping the rest: this is
  // what llama.cpp does, and it never happens with a complete byte alphabet.
  auto emit_fallback = [&](std::string_view sym) {
    for (char c : bytes_to_byte_level(sym)) {
      const int32_t id = token_id(std::string_view(&c, 1));
      if (id >= 0) out.push_back(id);
    }
  };
  if (n == 1) {
    const int32_t id = byte_token_[uint8_t(bytes[0])];
    if (id >= 0)
      out.push_back(id);
    else
      emit_fallback(bytes);
    return;
  }
  if (ignore_merges_) {
    const int32_t id = token_id(bytes_to_byte_level(bytes));
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }

  struct Sym {
    int32_t id;
    uint32_t start, len;
    int32_t prev, next;
  };
  struct Cand {
    int32_t rank, left, right, result;
    uint32_t left_len, right_len;
    // Lowest rank first, then leftmost (llama.cpp's order).
    bool operator<(const Cand& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  // Scratch reused across calls; BPE runs once per piece, millions of times.
  thread_local std::vector<Sym> sym;
  thread_local std::vector<Cand> queue;
  sym.resize(n);
  for (size_t i = 0; i < n; ++i)
    sym[i] = {byte_token_[uint8_t(bytes[i])], uint32_t(i), 1, int32_t(i) - 1,
              i + 1 < n ? int32_t(i + 1) : -1};
  queue.clear();
  auto try_add = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    const Sym &a = sym[size_t(l)], &b = sym[size_t(r)];
    if (a.id < 0 || b.id < 0) return;
    auto it = merges_.find(pair_key(a.id, b.id));
    if (it == merges_.end()) return;
    queue.push_back({it->second.rank, l, r, it->second.result, a.len, b.len});
    std::push_heap(queue.begin(), queue.end());
  };
  for (size_t i = 0; i + 1 < n; ++i) try_add(int32_t(i), int32_t(i + 1));

  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end());
    const Cand c = queue.back();
    queue.pop_back();
    Sym& a = sym[size_t(c.left)];
    Sym& b = sym[size_t(c.right)];
    // Stale entry: one side has merged since it was queued (spans only grow).
    if (a.len != c.left_len || b.len != c.right_len || b.len == 0) continue;
    a.id = c.result;
    a.len += b.len;
    b.len = 0;
    a.next = b.next;
    if (b.next >= 0) sym[size_t(b.next)].prev = c.left;
    try_add(a.prev, c.left);
    try_add(c.left, a.next);
  }
  for (int32_t i = 0; i >= 0; i = sym[size_t(i)].next) {
    const Sym& s = sym[size_t(i)];
    if (s.id >= 0)
      out.push_back(s.id);
    else
      emit_fallback(bytes.substr(s.start, s.len));
  }
}

void Tokenizer::encode_text(std::string_view text, std::vector<int32_t>& out) const {
  const PreTokenized p = pre_.split(text);
  for (size_t i = 0; i < p.size(); ++i) encode_piece(p.piece(i), out);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (text.empty()) return out;
  // Fragments of the input: raw text (token < 0) or one special token. Each
  // special token, longest first, splits every raw fragment at its leftmost
  // non-overlapping occurrences, exactly like llama.cpp's partition.
  struct Frag {
    size_t off, len;
    int32_t token;
  };
  std::vector<Frag> frags = {{0, text.size(), -1}}, next;
  for (int32_t id : special_by_length_) {
    const int32_t type = spec_.token_types[size_t(id)];
    if (!parse_special && type != int32_t(TokenType::USER_DEFINED)) continue;
    const std::string& t = spec_.tokens[size_t(id)];
    if (text.find(t) == std::string_view::npos) continue;
    next.clear();
    for (const Frag& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      const std::string_view s = text.substr(f.off, f.len);
      size_t p = 0, m;
      while ((m = s.find(t, p)) != std::string_view::npos) {
        if (m > p) next.push_back({f.off + p, m - p, -1});
        next.push_back({0, 0, id});
        p = m + t.size();
      }
      if (p < s.size()) next.push_back({f.off + p, s.size() - p, -1});
    }
    frags.swap(next);
  }
  for (const Frag& f : frags) {
    if (f.token >= 0)
      out.push_back(f.token);
    else
      encode_text(text.substr(f.off, f.len), out);
  }
  return out;
}

bool ends_generation(const Tokenizer& tok, int32_t id) {
  if (id == tok.spec().eos_id) return true;
  const std::string p = tok.piece(id);
  return p == "<|im_end|>" || p == "<|endoftext|>" || p == "<|eot_id|>" || p == "<|end_of_text|>";
}

}  // namespace radlads
