// Unicode helpers for the tokenizer: lenient UTF-8 decoding, codepoint classes
// from the generated range table, White_Space, GPT-2 byte-level mapping.
#include "text/unicode.h"

#include <array>
#include <memory>

namespace radlads {

namespace {

constexpr uint32_t kMaxCp = 0x110000;
constexpr uint32_t kReplacement = 0xFFFD;

// The range table expanded to one byte per codepoint (1.1 MB) on first use:
// the pre-tokenizer classifies every input codepoint, and an array lookup is
// several times faster than a binary search over 2272 ranges.
const uint8_t* class_table() {
  static const std::unique_ptr<uint8_t[]> table = [] {
    auto t = std::make_unique<uint8_t[]>(kMaxCp);
    using unicode_detail::kCategoryRanges;
    using unicode_detail::kNumCategoryRanges;
    for (size_t i = 0; i < kNumCategoryRanges; ++i) {
      uint32_t end = i + 1 < kNumCategoryRanges ? kCategoryRanges[i + 1].start : kMaxCp;
      for (uint32_t c = kCategoryRanges[i].start; c < end; ++c) t[c] = kCategoryRanges[i].cls;
    }
    return t;
  }();
  return table.get();
}

struct ByteMaps {
  std::array<uint32_t, 256> to_cp{};
  std::array<int16_t, 324> to_byte{};  // the image of the map lies below U+0144
};

const ByteMaps& byte_maps() {
  static const ByteMaps maps = [] {
    ByteMaps m;
    m.to_byte.fill(-1);
    auto printable = [](int b) {
      return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      m.to_cp[size_t(b)] = printable(b) ? uint32_t(b) : next++;
      m.to_byte[m.to_cp[size_t(b)]] = int16_t(b);
    }
    return m;
  }();
  return maps;
}

}  // namespace

CpClass cp_class(uint32_t cp) { return cp < kMaxCp ? CpClass(class_table()[cp]) : kCpUndefined; }

bool cp_is_whitespace(uint32_t cp) {
  // Unicode's White_Space property (PropList.txt), which llama.cpp also uses.
  if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
  switch (cp) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return true;
    default: return cp >= 0x2000 && cp <= 0x200A;
  }
}

size_t utf8_len_from_lead(uint8_t lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

std::vector<uint32_t> utf8_decode_lenient(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  auto cont = [&](size_t i) { return i < n && (p[i] & 0xC0) == 0x80; };
  size_t i = 0;
  while (i < n) {
    const uint8_t b = p[i];
    if (b < 0x80) {
      out.push_back(b);
      i += 1;
    } else if (b < 0xC0) {
      out.push_back(kReplacement);  // stray continuation byte
      i += 1;
    } else if (b < 0xE0) {
      if (cont(i + 1)) {
        out.push_back(uint32_t(b & 0x1F) << 6 | (p[i + 1] & 0x3F));
        i += 2;
      } else {
        out.push_back(kReplacement);
        i += 1;
      }
    } else if (b < 0xF0) {
      if (cont(i + 1) && cont(i + 2)) {
        out.push_back(uint32_t(b & 0x0F) << 12 | uint32_t(p[i + 1] & 0x3F) << 6 | (p[i + 2] & 0x3F));
        i += 3;
      } else {
        out.push_back(kReplacement);
        i += 1;
      }
    } else if (b < 0xF8) {
      if (cont(i + 1) && cont(i + 2) && cont(i + 3)) {
        out.push_back(uint32_t(b & 0x07) << 18 | uint32_t(p[i + 1] & 0x3F) << 12 |
                      uint32_t(p[i + 2] & 0x3F) << 6 | (p[i + 3] & 0x3F));
        i += 4;
      } else {
        out.push_back(kReplacement);
        i += 1;
      }
    } else {
      out.push_back(kReplacement);
      i += 1;
    }
  }
  return out;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp >= kMaxCp) cp = kReplacement;
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

uint32_t byte_to_cp(uint8_t b) { return byte_maps().to_cp[b]; }

int cp_to_byte(uint32_t cp) {
  const auto& m = byte_maps().to_byte;
  return cp < m.size() ? m[cp] : -1;
}

std::string bytes_to_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) utf8_append(out, byte_to_cp(uint8_t(c)));
  return out;
}

}  // namespace radlads
