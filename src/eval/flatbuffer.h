// A bounds-checked reader of FlatBuffers tables, just enough for the Arrow IPC
// metadata (arrow_ipc.cpp): scalars, strings, vectors of structs and tables,
// union members. Every offset is checked against the buffer, so a malformed
// file throws Error naming the file instead of reading out of bounds.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/error.h"

namespace radlads {

// One flatbuffer (a span of bytes) and the file it came from, for messages.
struct FlatBuf {
  std::span<const uint8_t> bytes;
  const std::string* path;

  template <typename T>
  T read(size_t pos, std::string_view what) const {
    static_assert(std::is_trivially_copyable_v<T>);
    if (pos > bytes.size() || sizeof(T) > bytes.size() - pos)
      fail("{}: malformed Arrow metadata: {} at offset {} is outside the {}-byte message", *path,
           what, pos, bytes.size());
    T v;
    std::memcpy(&v, bytes.data() + pos, sizeof(T));
    return v;
  }
  // Position of the object an unsigned 32-bit offset stored at pos points to.
  size_t deref(size_t pos, std::string_view what) const {
    size_t target = pos + read<uint32_t>(pos, what);
    if (target >= bytes.size())
      fail("{}: malformed Arrow metadata: {} points past the message", *path, what);
    return target;
  }
};

class FbVector;

// A table: its position and its vtable (field id -> offset within the table).
class FbTable {
 public:
  FbTable(const FlatBuf& fb, size_t pos, std::string_view what) : fb_(&fb), pos_(pos) {
    int32_t back = fb.read<int32_t>(pos, what);
    // The vtable lives at pos - back; compute in signed 64-bit so neither sign wraps.
    int64_t vt = int64_t(pos) - int64_t(back);
    if (vt < 0 || uint64_t(vt) >= fb.bytes.size())
      fail("{}: malformed Arrow metadata: vtable of {} is outside the message", *fb.path, what);
    vt_ = size_t(vt);
    vt_size_ = fb.read<uint16_t>(vt_, what);
    if (vt_size_ < 4 || vt_size_ % 2 != 0)
      fail("{}: malformed Arrow metadata: vtable of {} has size {}", *fb.path, what, vt_size_);
    fb.read<uint16_t>(vt_ + vt_size_ - 2, what);  // the whole vtable must be inside
  }
  // The root table of a flatbuffer: a 32-bit offset at byte 0.
  static FbTable root(const FlatBuf& fb, std::string_view what) {
    return FbTable(fb, fb.deref(0, what), what);
  }

  bool has(int field) const { return offset(field) != 0; }

  template <typename T>
  T scalar(int field, T dflt, std::string_view what) const {
    uint16_t off = offset(field);
    return off ? fb_->read<T>(pos_ + off, what) : dflt;
  }
  FbTable table(int field, std::string_view what) const {
    return FbTable(*fb_, ref(field, what), what);
  }
  std::string_view string(int field, std::string_view what) const {
    if (!has(field)) return {};
    size_t p = ref(field, what);
    uint32_t n = fb_->read<uint32_t>(p, what);
    if (n > fb_->bytes.size() - p - 4)
      fail("{}: malformed Arrow metadata: string {} runs past the message", *fb_->path, what);
    return {reinterpret_cast<const char*>(fb_->bytes.data() + p + 4), n};
  }
  inline FbVector vector(int field, size_t elem_size, std::string_view what) const;
  const FlatBuf& buf() const { return *fb_; }

 private:
  uint16_t offset(int field) const {
    size_t slot = 4 + 2 * size_t(field);
    if (slot + 2 > vt_size_) return 0;  // fields past the vtable's end are absent
    return fb_->read<uint16_t>(vt_ + slot, "vtable slot");
  }
  size_t ref(int field, std::string_view what) const {
    uint16_t off = offset(field);
    if (!off) fail("{}: malformed Arrow metadata: {} is missing", *fb_->path, what);
    return fb_->deref(pos_ + off, what);
  }

  const FlatBuf* fb_;
  size_t pos_ = 0, vt_ = 0;
  uint16_t vt_size_ = 0;
};

// A vector: a 32-bit length, then elements (inline structs, or 32-bit offsets to tables).
class FbVector {
 public:
  FbVector() = default;
  FbVector(const FlatBuf& fb, size_t pos, size_t elem_size, std::string_view what)
      : fb_(&fb), elem_size_(elem_size) {
    n_ = fb.read<uint32_t>(pos, what);
    start_ = pos + 4;
    if (elem_size == 0 || n_ > (fb.bytes.size() - start_) / elem_size)
      fail("{}: malformed Arrow metadata: vector {} of {} elements runs past the message",
           *fb.path, what, n_);
  }
  size_t size() const { return n_; }
  template <typename T>
  T scalar_at(size_t i, size_t field_offset, std::string_view what) const {
    return fb_->read<T>(start_ + i * elem_size_ + field_offset, what);
  }
  FbTable table_at(size_t i, std::string_view what) const {
    return FbTable(*fb_, fb_->deref(start_ + 4 * i, what), what);
  }

 private:
  const FlatBuf* fb_ = nullptr;
  size_t n_ = 0, start_ = 0, elem_size_ = 1;
};

inline FbVector FbTable::vector(int field, size_t elem_size, std::string_view what) const {
  if (!has(field)) return {};
  return FbVector(*fb_, ref(field, what), elem_size, what);
}

}  // namespace radlads
