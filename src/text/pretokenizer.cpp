// Pre-tokenizer regex lists and the splitting engine (PCRE2); see
// pretokenizer.h for how it reproduces llama.cpp's splits.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/pretokenizer.h"

#include <pcre2.h>

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "text/unicode.h"

namespace radlads {

namespace {

struct NamedPre {
  const char* name;  // canonical
  std::vector<const char*> aliases;
  bool ignore_merges;
};

// llama.cpp's names (llama-vocab.cpp) for the four pre-tokenizer types we
// implement; each alias there selects the same regex list.
const std::vector<NamedPre>& named_pres() {
  static const std::vector<NamedPre> v = {
      {"llama-bpe",
       {"llama-bpe", "llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"},
       true},
      {"qwen2", {"qwen2", "deepseek-r1-qwen", "megrez", "stablelm2"}, false},
      {"smollm", {"smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b"}, false},
      {"gpt-2", {"gpt-2", "phi-2", "mpt", "olmo", "jais", "jina-es", "jina-de", "gigachat"}, false},
      {"default", {"default"}, false},
  };
  return v;
}

const NamedPre* find_pre(std::string_view pre) {
  for (const auto& p : named_pres())
    for (const char* a : p.aliases)
      if (pre == a) return &p;
  return nullptr;
}

// Collapsed string codes for non-ASCII codepoints (llama.cpp's choice, kept so
// that any regex behaves as it does there).
constexpr uint8_t kCollapsedOther = 0xD0, kCollapsedNumber = 0xD1, kCollapsedLetter = 0xD2,
                  kCollapsedPunct = 0xD3, kCollapsedMark = 0xD4, kCollapsedSymbol = 0xD5,
                  kCollapsedSpace = 0x0B;

uint8_t collapse_cp(uint32_t cp) {
  if (cp < 0x80) return uint8_t(cp);
  if (cp_is_whitespace(cp)) return kCollapsedSpace;
  switch (cp_class(cp)) {
    case kCpNumber: return kCollapsedNumber;
    case kCpLetter: return kCollapsedLetter;
    case kCpPunctuation: return kCollapsedPunct;
    case kCpMark: return kCollapsedMark;
    case kCpSymbol: return kCollapsedSymbol;
    default: return kCollapsedOther;
  }
}

// Members of a \p{..} class in the collapsed alphabet: its collapsed code plus
// the ASCII codepoints of that category. \p{S} leaves out '~' because
// llama.cpp's collapsed class does (its custom splitters never use \p{S}).
std::optional<std::string> collapsed_members(std::string_view name) {
  if (name == "N") return "\\x{d1}0-9";
  if (name == "L" || name == "Lu" || name == "Ll" || name == "Lt" || name == "Lm" || name == "Lo")
    return "\\x{d2}A-Za-z";  // llama.cpp treats the letter subcategories as \p{L}
  if (name == "P")
    return "\\x{d3}\\x{21}-\\x{23}\\x{25}-\\x{2a}\\x{2c}-\\x{2f}\\x{3a}\\x{3b}\\x{3f}\\x{40}"
           "\\x{5b}-\\x{5d}\\x{5f}\\x{7b}\\x{7d}";
  if (name == "M") return "\\x{d4}";
  if (name == "S") return "\\x{d5}\\x{24}\\x{2b}\\x{3c}-\\x{3e}\\x{5e}\\x{60}\\x{7c}";
  return std::nullopt;
}

// Rewrites a regex for the collapsed byte string, or nullopt when it needs
// real Unicode matching (non-ASCII literals, \P, \X, \x/\u escapes, or a
// property we do not collapse such as \p{Han}).
std::optional<std::string> collapse_regex(const std::string& re) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < re.size(); ++i) {
    const auto c = uint8_t(re[i]);
    if (c >= 0x80) return std::nullopt;
    if (c == '\\') {
      if (i + 1 >= re.size()) return std::nullopt;
      const char e = re[i + 1];
      if (e == 'p') {
        if (i + 2 >= re.size() || re[i + 2] != '{') return std::nullopt;
        const size_t close = re.find('}', i + 3);
        if (close == std::string::npos) return std::nullopt;
        auto members = collapsed_members(std::string_view(re).substr(i + 3, close - i - 3));
        if (!members) return std::nullopt;
        out += in_class ? *members : "[" + *members + "]";
        i = close;
        continue;
      }
      if (e == 'P' || e == 'X' || e == 'x' || e == 'u' || e == 'N' || e == 'R') return std::nullopt;
      out += char(c);
      out += e;
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += '[';
      if (i + 1 < re.size() && re[i + 1] == '^') out += re[++i];
      if (i + 1 < re.size() && re[i + 1] == ']') out += re[++i];  // a leading ']' is literal
      continue;
    }
    if (c == '[' && in_class && i + 1 < re.size() && re[i + 1] == ':') return std::nullopt;
    if (c == ']' && in_class) in_class = false;
    out += char(c);
  }
  return out;
}

std::string pcre2_error_text(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

std::vector<std::string> pretokenizer_regexes(std::string_view pre) {
  const NamedPre* p = find_pre(pre);
  if (!p) return {};
  const std::string name = p->name;
  if (name == "llama-bpe") return {kRegexLlama3};
  if (name == "qwen2") return {kRegexQwen2};
  if (name == "smollm") return {"\\p{N}", kRegexGpt2};
  if (name == "gpt-2") return {kRegexGpt2};
  // llama.cpp's fallback for BPE vocabularies with no or an unknown pre name.
  return {"[\\p{P}\\$\\+<=>\\^~\\|]+", kRegexGpt2, "\\p{N}+", "[0-9][0-9][0-9]"};
}

bool pretokenizer_ignores_merges(std::string_view pre) {
  const NamedPre* p = find_pre(pre);
  return p && p->ignore_merges;
}

std::string canonical_pretokenizer(std::string_view pre) {
  const NamedPre* p = find_pre(pre);
  return p ? p->name : "";
}

struct PreTokenizer::Compiled {
  pcre2_code* code = nullptr;
  bool collapsed = false;
  ~Compiled() {
    if (code) pcre2_code_free(code);
  }
};

PreTokenizer::PreTokenizer(std::vector<std::string> regexes) : regexes_(std::move(regexes)) {
  for (const auto& re : regexes_) {
    auto c = std::make_shared<Compiled>();
    std::optional<std::string> collapsed = collapse_regex(re);
    c->collapsed = collapsed.has_value();
    const std::string& pattern = collapsed ? *collapsed : re;
    const uint32_t options = collapsed ? 0 : (PCRE2_UTF | PCRE2_UCP);
    int err = 0;
    PCRE2_SIZE err_off = 0;
    c->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &err,
                            &err_off, nullptr);
    if (!c->code)
      fail("pre-tokenizer regex '{}': {} at offset {}", re, pcre2_error_text(err), size_t(err_off));
    // JIT is an optimisation only; the interpreter gives the same matches.
    pcre2_jit_compile(c->code, PCRE2_JIT_COMPLETE);
    (c->collapsed ? need_collapsed_ : need_utf8_) = true;
    compiled_.push_back(std::move(c));
  }
}

PreTokenized PreTokenizer::split(std::string_view input) const {
  std::vector<uint32_t> cps = utf8_decode_lenient(input);
  // Values past U+10FFFF (from F4..F7 leads) are emitted as U+FFFD, so they
  // are classified as U+FFFD too (llama.cpp throws on them instead).
  for (uint32_t& cp : cps)
    if (cp > 0x10FFFF) cp = 0xFFFD;
  const auto n = uint32_t(cps.size());

  PreTokenized out;
  std::vector<uint32_t> byte_of(n + 1);  // byte offset of each codepoint in out.text
  out.text.reserve(input.size() + 8);
  for (uint32_t i = 0; i < n; ++i) {
    byte_of[i] = uint32_t(out.text.size());
    utf8_append(out.text, cps[i]);
  }
  byte_of[n] = uint32_t(out.text.size());
  if (n == 0) return out;

  std::string collapsed;
  if (need_collapsed_) {
    collapsed.resize(n);
    for (uint32_t i = 0; i < n; ++i) collapsed[i] = char(collapse_cp(cps[i]));
  }
  // PCRE2 in UTF mode rejects surrogates; U+FFFD has the same 3-byte length,
  // so byte offsets stay aligned with out.text.
  std::string subject_utf8;
  if (need_utf8_) {
    subject_utf8 = out.text;
    for (uint32_t i = 0; i < n; ++i)
      if (cps[i] >= 0xD800 && cps[i] <= 0xDFFF) subject_utf8.replace(byte_of[i], 3, "\xEF\xBF\xBD");
  }

  std::vector<uint32_t> ends = {n};  // piece ends, in codepoints
  std::vector<uint32_t> next;
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  struct MdFree {
    pcre2_match_data* m;
    ~MdFree() { pcre2_match_data_free(m); }
  } md_free{md};

  for (size_t r = 0; r < compiled_.size(); ++r) {
    const Compiled* c = compiled_[r].get();
    next.clear();
    next.reserve(ends.size() * 2);
    uint32_t seg_begin = 0;
    for (const uint32_t seg_end : ends) {
      // Subject is the segment only, so lookaheads see its end as the text's
      // end, as in llama.cpp (which matches each piece separately).
      const char* base;
      size_t len;
      if (c->collapsed) {
        base = collapsed.data() + seg_begin;
        len = seg_end - seg_begin;
      } else {
        base = subject_utf8.data() + byte_of[seg_begin];
        len = byte_of[seg_end] - byte_of[seg_begin];
      }
      // Converts a match offset (bytes within the segment) to a codepoint index.
      auto to_cp = [&](size_t off) -> uint32_t {
        if (c->collapsed) return seg_begin + uint32_t(off);
        const uint32_t target = byte_of[seg_begin] + uint32_t(off);
        return uint32_t(std::lower_bound(byte_of.begin() + seg_begin, byte_of.begin() + seg_end + 1, target) -
                        byte_of.begin());
      };
      size_t pos = 0;      // search start within the segment
      size_t emitted = 0;  // end of the last emitted piece
      while (pos < len) {
        const int rc = pcre2_match(c->code, reinterpret_cast<PCRE2_SPTR>(base), len, pos,
                                   c->collapsed ? 0 : PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) fail("pre-tokenizer regex '{}': {}", regexes_[r], pcre2_error_text(rc));
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t ms = ov[0], me = ov[1];
        if (me == ms) {
          // An empty match splits nothing; step over one character.
          pos = ms + 1;
          if (!c->collapsed)
            while (pos < len && (uint8_t(base[pos]) & 0xC0) == 0x80) ++pos;
          continue;
        }
        if (ms > emitted) next.push_back(to_cp(ms));
        next.push_back(to_cp(me));
        emitted = pos = me;
      }
      if (emitted < len) next.push_back(seg_end);
      seg_begin = seg_end;
    }
    ends.swap(next);
  }
  out.ends.reserve(ends.size());
  for (uint32_t e : ends) out.ends.push_back(byte_of[e]);
  return out;
}

std::vector<std::string> PreTokenizer::split_strings(std::string_view text) const {
  PreTokenized p = split(text);
  std::vector<std::string> v;
  v.reserve(p.size());
  for (size_t i = 0; i < p.size(); ++i) v.emplace_back(p.piece(i));
  return v;
}

}  // namespace radlads
