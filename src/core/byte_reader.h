// Bounds-checked little-endian reads over a byte span. Every read past the end
// throws Error naming the file and what was being read, so malformed files fail
// with one clear line instead of a crash.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/error.h"

namespace radlads {

class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> bytes, std::string path) : b_(bytes), path_(std::move(path)) {}

  template <typename T>
  T read(std::string_view what) {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string_view read_bytes(uint64_t n, std::string_view what) {
    need(n, what);
    std::string_view s(reinterpret_cast<const char*>(b_.data() + pos_), size_t(n));
    pos_ += size_t(n);
    return s;
  }

  void need(uint64_t n, std::string_view what) const {
    if (n > b_.size() - pos_)
      fail("{}: truncated: {} needs {} bytes at offset {} but the file has {}", path_, what, n,
           pos_, b_.size());
  }

  size_t pos() const { return pos_; }
  void seek(size_t p) {
    if (p > b_.size()) fail("{}: offset {} is past the end ({} bytes)", path_, p, b_.size());
    pos_ = p;
  }
  size_t size() const { return b_.size(); }
  const std::string& path() const { return path_; }

 private:
  std::span<const uint8_t> b_;
  std::string path_;
  size_t pos_ = 0;
};

}  // namespace radlads
