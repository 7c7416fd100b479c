// Helpers shared by the GGUF and ggml-type tests (on top of tests/test_util.h:
// TempDir, cache_dir): raw file bytes, hex decoding of the golden files, and a
// hand-rolled GGUF byte builder that does not use our writer (so reader tests
// stay independent of it).
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"
#include "test_util.h"

namespace radlads::test {

inline std::string data_path(const std::string& name) {
  return std::string(RADLADS_SOURCE_DIR) + "/tests/data/" + name;
}

inline std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_all(const std::string& path, const uint8_t* data, size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), std::streamsize(n));
  ASSERT_TRUE(out.good()) << path;
}

inline void write_all(const std::string& path, const std::vector<uint8_t>& b) {
  write_all(path, b.data(), b.size());
}

inline std::vector<uint8_t> from_hex(const std::string& h) {
  EXPECT_EQ(h.size() % 2, 0u);
  std::vector<uint8_t> out(h.size() / 2);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = uint8_t(nibble(h[2 * i]) << 4 | nibble(h[2 * i + 1]));
  return out;
}

inline std::vector<float> floats_from_hex(const std::string& h) {
  const std::vector<uint8_t> b = from_hex(h);
  std::vector<float> out(b.size() / 4);
  std::memcpy(out.data(), b.data(), out.size() * 4);
  return out;
}

inline uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Little-endian GGUF bytes built field by field, for crafting malformed files.
struct GgufBytes {
  std::vector<uint8_t> b;
  template <typename T>
  GgufBytes& put(T v) {
    const size_t n = b.size();
    b.resize(n + sizeof(T));
    std::memcpy(b.data() + n, &v, sizeof(T));
    return *this;
  }
  GgufBytes& u32(uint32_t v) { return put(v); }
  GgufBytes& u64(uint64_t v) { return put(v); }
  GgufBytes& str(const std::string& s) {
    u64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  GgufBytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return u32(0x46554747).u32(version).u64(n_tensors).u64(n_kv);
  }
  GgufBytes& kv_str(const std::string& k, const std::string& v) { return str(k).u32(8).str(v); }
  GgufBytes& kv_u32(const std::string& k, uint32_t v) { return str(k).u32(4).u32(v); }
  // ne in GGUF order (fastest first).
  GgufBytes& tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type,
                    uint64_t offset) {
    str(name).u32(uint32_t(ne.size()));
    for (uint64_t d : ne) u64(d);
    return u32(type).u64(offset);
  }
  GgufBytes& pad(size_t align = 32) {
    b.resize((b.size() + align - 1) / align * align, 0);
    return *this;
  }
  GgufBytes& zeros(size_t n) {
    b.resize(b.size() + n, 0);
    return *this;
  }
};

}  // namespace radlads::test
