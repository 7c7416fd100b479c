// GGUF v3 writer. Layout (as ggml and gguf-py write it, so that a file read
// and rewritten is byte-identical): header, metadata in insertion order,
// tensor infos, zero padding to the alignment, then each tensor's bytes in add
// order followed by zero padding to the alignment (the last one too).
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"

namespace radlads {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" as a little-endian u32
constexpr uint32_t kDefaultAlignment = 32;

// Little-endian serialisation into a growing buffer (x86 is little-endian).
struct Out {
  std::vector<uint8_t> b;
  template <typename T>
  void put(T v) {
    const size_t n = b.size();
    b.resize(n + sizeof(T));
    std::memcpy(b.data() + n, &v, sizeof(T));
  }
  void put_str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
  }
};

// Writes one value (without its type tag). Checks what a reader would reject
// or silently change: out-of-range integers and arrays whose elements do not
// all have the declared element type.
void put_value(Out& o, const GgufValue& v, const std::string& key) {
  auto fits_u = [&](uint64_t max) {
    if (v.u > max) fail("gguf metadata '{}': value {} does not fit {}", key, v.u, gguf_type_name(v.type));
  };
  auto fits_i = [&](int64_t lo, int64_t hi) {
    if (v.i < lo || v.i > hi)
      fail("gguf metadata '{}': value {} does not fit {}", key, v.i, gguf_type_name(v.type));
  };
  switch (v.type) {
    case GgufType::UINT8: fits_u(UINT8_MAX); o.put<uint8_t>(uint8_t(v.u)); break;
    case GgufType::UINT16: fits_u(UINT16_MAX); o.put<uint16_t>(uint16_t(v.u)); break;
    case GgufType::UINT32: fits_u(UINT32_MAX); o.put<uint32_t>(uint32_t(v.u)); break;
    case GgufType::UINT64: o.put<uint64_t>(v.u); break;
    case GgufType::INT8: fits_i(INT8_MIN, INT8_MAX); o.put<int8_t>(int8_t(v.i)); break;
    case GgufType::INT16: fits_i(INT16_MIN, INT16_MAX); o.put<int16_t>(int16_t(v.i)); break;
    case GgufType::INT32: fits_i(INT32_MIN, INT32_MAX); o.put<int32_t>(int32_t(v.i)); break;
    case GgufType::INT64: o.put<int64_t>(v.i); break;
    case GgufType::FLOAT32: o.put<float>(float(v.f)); break;
    case GgufType::FLOAT64: o.put<double>(v.f); break;
    case GgufType::BOOL: o.put<uint8_t>(v.b ? 1 : 0); break;
    case GgufType::STRING: o.put_str(v.s); break;
    case GgufType::ARRAY:
      o.put<uint32_t>(uint32_t(v.elem_type));
      o.put<uint64_t>(v.arr.size());
      for (const GgufValue& e : v.arr) {
        if (e.type != v.elem_type)
          fail("gguf metadata '{}': array of {} holds a {}", key, gguf_type_name(v.elem_type),
               gguf_type_name(e.type));
        put_value(o, e, key);
      }
      break;
    default:
      fail("gguf metadata '{}': unknown value type {}", key, uint32_t(v.type));
  }
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue v) {
  for (auto& [k, old] : kv_) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  kv_.emplace_back(key, std::move(v));
}

void GgufWriter::remove(const std::string& key) {
  std::erase_if(kv_, [&](const auto& kv) { return kv.first == key; });
}

void GgufWriter::add_tensor(const std::string& name, GgmlType type, const Shape& shape,
                            std::vector<uint8_t> bytes) {
  for (const Pending& p : tensors_)
    if (p.name == name) fail("gguf tensor '{}': added twice", name);
  if (shape.size() > 4) fail("gguf tensor '{}': {} dimensions (at most 4)", name, shape.size());
  for (int64_t d : shape)
    if (d < 1) fail("gguf tensor '{}': shape {} has a dimension < 1", name, shape_str(shape));
  const int64_t row = shape.empty() ? 1 : shape.back();
  if (row % ggml_block_elems(type) != 0)
    fail("gguf tensor '{}': row of {} is not a multiple of the {} block size {}", name, row,
         ggml_type_name(type), ggml_block_elems(type));
  const size_t want = ggml_row_bytes(type, row) * size_t(numel(shape) / row);
  if (bytes.size() != want)
    fail("gguf tensor '{}': {} bytes given, but {} of shape {} needs {}", name, bytes.size(),
         ggml_type_name(type), shape_str(shape), want);
  tensors_.push_back({name, type, shape, std::move(bytes)});
}

void GgufWriter::add_tensor_f32(const std::string& name, GgmlType type, const Tensor& t) {
  if (!ggml_can_quantize(type))
    fail("gguf tensor '{}': cannot quantize to {}", name, ggml_type_name(type));
  if (int64_t(t.data.size()) != numel(t.shape))
    fail("gguf tensor '{}': {} values for shape {}", name, t.data.size(), shape_str(t.shape));
  const int64_t row = t.shape.empty() ? 1 : t.shape.back();
  if (row < 1 || row % ggml_block_elems(type) != 0)
    fail("gguf tensor '{}': row of {} is not a multiple of the {} block size {}", name, row,
         ggml_type_name(type), ggml_block_elems(type));
  const int64_t rows = t.numel() / row;
  const size_t row_bytes = ggml_row_bytes(type, row);
  std::vector<uint8_t> bytes(row_bytes * size_t(rows));
  // Rows quantize independently; small tensors are not worth a fork.
#pragma omp parallel for schedule(static) if (t.numel() >= (1 << 16))
  for (int64_t i = 0; i < rows; ++i) {
    const std::vector<uint8_t> q = quantize_row(type, t.ptr() + i * row, row);
    std::memcpy(bytes.data() + size_t(i) * row_bytes, q.data(), row_bytes);
  }
  add_tensor(name, type, t.shape, std::move(bytes));
}

void GgufWriter::write(const std::string& path) const {
  uint32_t alignment = kDefaultAlignment;
  for (const auto& [k, v] : kv_) {
    if (k != "general.alignment") continue;
    if (v.type != GgufType::UINT32 || v.u == 0 || v.u > UINT32_MAX || !std::has_single_bit(v.u))
      fail("{}: metadata general.alignment must be a uint32 power of two", path);
    alignment = uint32_t(v.u);
  }

  Out h;
  h.put<uint32_t>(kGgufMagic);
  h.put<uint32_t>(3);
  h.put<uint64_t>(tensors_.size());
  h.put<uint64_t>(kv_.size());
  for (const auto& [k, v] : kv_) {
    h.put_str(k);
    h.put<uint32_t>(uint32_t(v.type));
    put_value(h, v, k);
  }
  uint64_t offset = 0;
  for (const Pending& t : tensors_) {
    h.put_str(t.name);
    h.put<uint32_t>(uint32_t(t.shape.size()));
    for (size_t d = t.shape.size(); d-- > 0;) h.put<uint64_t>(uint64_t(t.shape[d]));  // ne order
    h.put<uint32_t>(uint32_t(t.type));
    h.put<uint64_t>(offset);
    offset += align_up(t.bytes.size(), alignment);
  }
  h.b.resize(size_t(align_up(h.b.size(), alignment)), 0);

  write_file_atomic(path, [&](std::FILE* f) {
    static const std::vector<uint8_t> zeros(4096, 0);
    write_bytes(f, h.b.data(), h.b.size(), path);
    for (const Pending& t : tensors_) {
      write_bytes(f, t.bytes.data(), t.bytes.size(), path);
      size_t pad = size_t(align_up(t.bytes.size(), alignment) - t.bytes.size());
      while (pad > 0) {  // alignment may exceed the zero buffer
        const size_t n = std::min(pad, zeros.size());
        write_bytes(f, zeros.data(), n, path);
        pad -= n;
      }
    }
  });
}

}  // namespace radlads
