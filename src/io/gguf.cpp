// GGUF reader: maps the file, parses and validates the whole header up front
// (so that later code can trust every offset), then serves metadata and
// tensor bytes straight from the mapping. The writer is in gguf_writer.cpp.
#include "io/gguf.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <unordered_set>

#include "core/byte_reader.h"
#include "core/error.h"

namespace radlads {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian u32
// Nested arrays recurse; a hostile file could nest millions deep in a few MB
// and overflow the stack, so depth is capped far above anything real.
constexpr int kMaxArrayDepth = 16;
// Smallest possible encodings, used to reject counts that cannot fit in the
// bytes left before anything is allocated: a kv is a key length (8), a value
// type (4) and at least one byte of value; a tensor info is a name length (8),
// n_dims (4), a type (4) and an offset (8).
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;
// Vectors are reserved only up to this many elements from a declared count;
// beyond it they grow as elements are actually parsed, so memory stays
// proportional to bytes really present.
constexpr uint64_t kMaxReserve = 1 << 16;
// Parsed metadata costs more memory than its encoding (a one-byte array
// element becomes a GgufValue of ~100 bytes): the whole header's parsed
// form is capped. A real model's tokenizer arrays (152 K tokens, merges,
// types, scores) take about 100 MB.
constexpr uint64_t kMaxMetadataBytes = uint64_t(1) << 30;

bool gguf_type_known(uint32_t t) { return t <= uint32_t(GgufType::FLOAT64); }

// Bytes the smallest encoded value of type t occupies in an array.
uint64_t min_value_bytes(GgufType t) {
  switch (t) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
    case GgufType::UINT16: case GgufType::INT16: return 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
    case GgufType::STRING: return 8;      // the length
    case GgufType::ARRAY: return 4 + 8;   // element type and count
  }
  return 1;
}

bool is_int_type(GgufType t) {
  switch (t) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::UINT16: case GgufType::INT16:
    case GgufType::UINT32: case GgufType::INT32: case GgufType::UINT64: case GgufType::INT64:
      return true;
    default:
      return false;
  }
}

bool is_unsigned_type(GgufType t) {
  return t == GgufType::UINT8 || t == GgufType::UINT16 || t == GgufType::UINT32 ||
         t == GgufType::UINT64;
}

// Parses metadata values; `what` names the key in every error.
class ValueParser {
 public:
  explicit ValueParser(ByteReader& r) : r_(r) {}

  GgufValue read(GgufType type, const std::string& what, int depth) {
    charge(sizeof(GgufValue), what);
    GgufValue v;
    v.type = type;
    switch (type) {
      case GgufType::UINT8: v.u = r_.read<uint8_t>(what); break;
      case GgufType::UINT16: v.u = r_.read<uint16_t>(what); break;
      case GgufType::UINT32: v.u = r_.read<uint32_t>(what); break;
      case GgufType::UINT64: v.u = r_.read<uint64_t>(what); break;
      case GgufType::INT8: v.i = r_.read<int8_t>(what); break;
      case GgufType::INT16: v.i = r_.read<int16_t>(what); break;
      case GgufType::INT32: v.i = r_.read<int32_t>(what); break;
      case GgufType::INT64: v.i = r_.read<int64_t>(what); break;
      case GgufType::FLOAT32: v.f = r_.read<float>(what); break;
      case GgufType::FLOAT64: v.f = r_.read<double>(what); break;
      case GgufType::BOOL: {
        // Only 0 and 1 are booleans; anything else would not survive a rewrite.
        const uint8_t b = r_.read<uint8_t>(what);
        if (b > 1) fail("{}: {}: bool value {} is neither 0 nor 1", r_.path(), what, b);
        v.b = b != 0;
        break;
      }
      case GgufType::STRING: v.s = read_string(what); break;
      case GgufType::ARRAY: read_array(v, what, depth); break;
    }
    return v;
  }

  std::string read_string(const std::string& what) {
    const uint64_t n = r_.read<uint64_t>(what);
    std::string s(r_.read_bytes(n, what));  // read_bytes checks n against the bytes left
    charge(s.size(), what);
    return s;
  }

 private:
  void charge(uint64_t bytes, const std::string& what) {
    used_ += bytes;
    if (used_ > kMaxMetadataBytes)
      fail("{}: {}: the metadata would take more than {} MiB of memory once parsed", r_.path(), what,
           kMaxMetadataBytes >> 20);
  }

  void read_array(GgufValue& v, const std::string& what, int depth) {
    if (depth >= kMaxArrayDepth)
      fail("{}: {}: arrays nested more than {} deep", r_.path(), what, kMaxArrayDepth);
    const uint32_t et = r_.read<uint32_t>(what);
    if (!gguf_type_known(et))
      fail("{}: {}: unknown array element type {}", r_.path(), what, et);
    v.elem_type = GgufType(et);
    const uint64_t n = r_.read<uint64_t>(what);
    const uint64_t left = r_.size() - r_.pos();
    if (n > left / min_value_bytes(v.elem_type))
      fail("{}: {}: array of {} {} cannot fit in the {} bytes left", r_.path(), what, n,
           gguf_type_name(v.elem_type), left);
    v.arr.reserve(size_t(std::min(n, kMaxReserve)));
    for (uint64_t k = 0; k < n; ++k) v.arr.push_back(read(v.elem_type, what, depth + 1));
  }

  ByteReader& r_;
  uint64_t used_ = 0;  // bytes of parsed metadata so far
};

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::UINT8: return "uint8";
    case GgufType::INT8: return "int8";
    case GgufType::UINT16: return "uint16";
    case GgufType::INT16: return "int16";
    case GgufType::UINT32: return "uint32";
    case GgufType::INT32: return "int32";
    case GgufType::FLOAT32: return "float32";
    case GgufType::BOOL: return "bool";
    case GgufType::STRING: return "string";
    case GgufType::ARRAY: return "array";
    case GgufType::UINT64: return "uint64";
    case GgufType::INT64: return "int64";
    case GgufType::FLOAT64: return "float64";
  }
  return "unknown";
}

GgufValue GgufValue::of_str(std::string v) {
  GgufValue x;
  x.type = GgufType::STRING;
  x.s = std::move(v);
  return x;
}
GgufValue GgufValue::of_u32(uint32_t v) {
  GgufValue x;
  x.type = GgufType::UINT32;
  x.u = v;
  return x;
}
GgufValue GgufValue::of_i32(int32_t v) {
  GgufValue x;
  x.type = GgufType::INT32;
  x.i = v;
  return x;
}
GgufValue GgufValue::of_u64(uint64_t v) {
  GgufValue x;
  x.type = GgufType::UINT64;
  x.u = v;
  return x;
}
GgufValue GgufValue::of_f32(float v) {
  GgufValue x;
  x.type = GgufType::FLOAT32;
  x.f = v;
  return x;
}
GgufValue GgufValue::of_bool(bool v) {
  GgufValue x;
  x.type = GgufType::BOOL;
  x.b = v;
  return x;
}
GgufValue GgufValue::of_str_array(const std::vector<std::string>& v) {
  GgufValue x;
  x.type = GgufType::ARRAY;
  x.elem_type = GgufType::STRING;
  x.arr.reserve(v.size());
  for (const std::string& s : v) x.arr.push_back(of_str(s));
  return x;
}
GgufValue GgufValue::of_i32_array(const std::vector<int32_t>& v) {
  GgufValue x;
  x.type = GgufType::ARRAY;
  x.elem_type = GgufType::INT32;
  x.arr.reserve(v.size());
  for (int32_t i : v) x.arr.push_back(of_i32(i));
  return x;
}
GgufValue GgufValue::of_f32_array(const std::vector<float>& v) {
  GgufValue x;
  x.type = GgufType::ARRAY;
  x.elem_type = GgufType::FLOAT32;
  x.arr.reserve(v.size());
  for (float f : v) x.arr.push_back(of_f32(f));
  return x;
}

GgufFile::GgufFile(const std::string& path) : file_(std::make_shared<MappedFile>(path)) {
  ByteReader r(file_->bytes(), path);
  const uint64_t size = r.size();

  const uint32_t magic = r.read<uint32_t>("magic");
  if (magic != kGgufMagic) fail("{}: not a GGUF file (bad magic {:#010x})", path, magic);
  version_ = r.read<uint32_t>("version");
  if (version_ == 1) fail("{}: GGUF version 1 is not supported (only 2 and 3)", path);
  if (version_ == 0x02000000 || version_ == 0x03000000)
    fail("{}: big-endian GGUF files are not supported", path);
  if (version_ != 2 && version_ != 3)
    fail("{}: unsupported GGUF version {} (only 2 and 3)", path, version_);

  const uint64_t n_tensors = r.read<uint64_t>("tensor count");
  const uint64_t n_kv = r.read<uint64_t>("metadata count");
  const uint64_t left = size - r.pos();
  if (n_kv > left / kMinKvBytes)
    fail("{}: metadata count {} cannot fit in the {} bytes left", path, n_kv, left);
  if (n_tensors > left / kMinTensorInfoBytes ||
      n_tensors * kMinTensorInfoBytes + n_kv * kMinKvBytes > left)
    fail("{}: tensor count {} cannot fit in the {} bytes left", path, n_tensors, left);

  // Metadata.
  ValueParser vp(r);
  std::unordered_set<std::string> keys;
  kv_.reserve(size_t(std::min(n_kv, kMaxReserve)));
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = vp.read_string(fmt::format("metadata key #{}", k));
    const std::string what = fmt::format("metadata '{}'", key);
    if (!keys.insert(key).second) fail("{}: {}: duplicate key", path, what);
    const uint32_t t = r.read<uint32_t>(what);
    if (!gguf_type_known(t)) fail("{}: {}: unknown value type {}", path, what, t);
    GgufValue v = vp.read(GgufType(t), what, 0);
    kv_.emplace_back(std::move(key), std::move(v));
  }

  if (const GgufValue* a = find("general.alignment")) {
    if (a->type != GgufType::UINT32)
      fail("{}: metadata general.alignment: expected uint32, found {}", path,
           gguf_type_name(a->type));
    if (a->u == 0 || !std::has_single_bit(a->u))
      fail("{}: metadata general.alignment: {} is not a power of two", path, a->u);
    alignment_ = uint32_t(a->u);
  }

  // Tensor infos.
  std::unordered_set<std::string> names;
  tensors_.reserve(size_t(std::min(n_tensors, kMaxReserve)));
  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensorInfo ti;
    ti.name = vp.read_string(fmt::format("tensor name #{}", k));
    const std::string what = fmt::format("tensor '{}'", ti.name);
    if (!names.insert(ti.name).second) fail("{}: {}: duplicate tensor name", path, what);

    const uint32_t n_dims = r.read<uint32_t>(what);
    if (n_dims > 4) fail("{}: {}: {} dimensions (GGUF allows at most 4)", path, what, n_dims);
    uint64_t ne[4] = {1, 1, 1, 1};
    int64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      ne[d] = r.read<uint64_t>(what);
      if (ne[d] == 0 || ne[d] > uint64_t(std::numeric_limits<int64_t>::max()))
        fail("{}: {}: dimension {} has size {}", path, what, d, ne[d]);
      if (__builtin_mul_overflow(numel, int64_t(ne[d]), &numel))
        fail("{}: {}: element count overflows", path, what);
    }
    for (uint32_t d = n_dims; d-- > 0;) ti.shape.push_back(int64_t(ne[d]));

    const uint32_t type = r.read<uint32_t>(what);
    if (!ggml_type_valid(type)) fail("{}: {}: unknown ggml type {}", path, what, type);
    ti.type = GgmlType(type);
    const int64_t block = ggml_block_elems(ti.type);
    if (int64_t(ne[0]) % block != 0)
      fail("{}: {}: row of {} elements is not a multiple of the {} block size {}", path, what,
           ne[0], ggml_type_name(ti.type), block);
    uint64_t nbytes = 0;
    if (__builtin_mul_overflow(uint64_t(numel / block), uint64_t(ggml_block_bytes(ti.type)),
                               &nbytes) ||
        nbytes > size)
      fail("{}: {}: {} elements of {} do not fit in the file", path, what, numel,
           ggml_type_name(ti.type));
    ti.nbytes = size_t(nbytes);

    ti.offset = r.read<uint64_t>(what);
    if (ti.offset % alignment_ != 0)
      fail("{}: {}: data offset {} is not a multiple of the alignment {}", path, what, ti.offset,
           alignment_);
    tensors_.push_back(std::move(ti));
  }

  // The data section starts at the next alignment boundary after the infos.
  data_start_ = size_t(align_up(r.pos(), alignment_));
  for (const GgufTensorInfo& ti : tensors_) {
    if (data_start_ > size || ti.offset > size - data_start_ ||
        ti.nbytes > size - data_start_ - ti.offset)
      fail("{}: tensor '{}': data at bytes [{}, {}) runs past the end of the file ({} bytes)",
           path, ti.name, data_start_ + ti.offset, data_start_ + ti.offset + ti.nbytes, size);
  }
}

const GgufValue* GgufFile::find(std::string_view key) const {
  for (const auto& [k, v] : kv_)
    if (k == key) return &v;
  return nullptr;
}

namespace {

[[noreturn]] void type_mismatch(const std::string& path, std::string_view key,
                                std::string_view expected, const GgufValue& v) {
  if (v.type == GgufType::ARRAY)
    fail("{}: metadata {}: expected {}, found array of {}", path, key, expected,
         gguf_type_name(v.elem_type));
  fail("{}: metadata {}: expected {}, found {}", path, key, expected, gguf_type_name(v.type));
}

int64_t as_int(const std::string& path, std::string_view key, const GgufValue& v) {
  if (!is_int_type(v.type)) type_mismatch(path, key, "an integer", v);
  if (!is_unsigned_type(v.type)) return v.i;
  if (v.u > uint64_t(std::numeric_limits<int64_t>::max()))
    fail("{}: metadata {}: value {} is too large", path, key, v.u);
  return int64_t(v.u);
}

double as_float(const std::string& path, std::string_view key, const GgufValue& v) {
  if (v.type == GgufType::FLOAT32 || v.type == GgufType::FLOAT64) return v.f;
  if (is_int_type(v.type)) return is_unsigned_type(v.type) ? double(v.u) : double(v.i);
  type_mismatch(path, key, "a number", v);
}

const GgufValue* require(const GgufFile& f, std::string_view key) {
  const GgufValue* v = f.find(key);
  if (!v) fail("{}: metadata {}: missing", f.path(), key);
  return v;
}

}  // namespace

std::string GgufFile::get_str(std::string_view key) const {
  const GgufValue* v = require(*this, key);
  if (v->type != GgufType::STRING) type_mismatch(path(), key, "string", *v);
  return v->s;
}

int64_t GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = require(*this, key);
  return as_int(path(), key, *v);
}

double GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = require(*this, key);
  return as_float(path(), key, *v);
}

bool GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = require(*this, key);
  if (v->type != GgufType::BOOL) type_mismatch(path(), key, "bool", *v);
  return v->b;
}

std::vector<std::string> GgufFile::get_str_array(std::string_view key) const {
  const GgufValue* v = require(*this, key);
  if (v->type != GgufType::ARRAY || v->elem_type != GgufType::STRING)
    type_mismatch(path(), key, "array of string", *v);
  std::vector<std::string> out;
  out.reserve(v->arr.size());
  for (const GgufValue& e : v->arr) out.push_back(e.s);
  return out;
}

std::vector<int64_t> GgufFile::get_int_array(std::string_view key) const {
  const GgufValue* v = require(*this, key);
  if (v->type != GgufType::ARRAY || !is_int_type(v->elem_type))
    type_mismatch(path(), key, "array of integers", *v);
  std::vector<int64_t> out;
  out.reserve(v->arr.size());
  for (const GgufValue& e : v->arr) out.push_back(as_int(path(), key, e));
  return out;
}

std::vector<double> GgufFile::get_float_array(std::string_view key) const {
  const GgufValue* v = require(*this, key);
  if (v->type != GgufType::ARRAY || v->elem_type == GgufType::STRING ||
      v->elem_type == GgufType::BOOL || v->elem_type == GgufType::ARRAY)
    type_mismatch(path(), key, "array of numbers", *v);
  std::vector<double> out;
  out.reserve(v->arr.size());
  for (const GgufValue& e : v->arr) out.push_back(as_float(path(), key, e));
  return out;
}

std::optional<std::string> GgufFile::opt_str(std::string_view key) const {
  if (!find(key)) return std::nullopt;
  return get_str(key);
}
std::optional<int64_t> GgufFile::opt_int(std::string_view key) const {
  if (!find(key)) return std::nullopt;
  return get_int(key);
}
std::optional<double> GgufFile::opt_float(std::string_view key) const {
  if (!find(key)) return std::nullopt;
  return get_float(key);
}
std::optional<bool> GgufFile::opt_bool(std::string_view key) const {
  if (!find(key)) return std::nullopt;
  return get_bool(key);
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  for (const GgufTensorInfo& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

std::span<const uint8_t> GgufFile::tensor_bytes(const GgufTensorInfo& t) const {
  // Offsets were validated against the file size in the constructor.
  return file_->bytes().subspan(data_start_ + size_t(t.offset), t.nbytes);
}

Tensor GgufFile::load_f32(const GgufTensorInfo& t) const {
  if (!ggml_can_dequantize(t.type))
    fail("{}: tensor '{}': cannot dequantize type {}", path(), t.name, ggml_type_name(t.type));
  Tensor out(t.shape);
  const int64_t row = t.shape.empty() ? 1 : t.shape.back();
  const int64_t rows = out.numel() / row;
  const size_t row_bytes = ggml_row_bytes(t.type, row);
  const uint8_t* src = tensor_bytes(t).data();
  float* dst = out.ptr();
  // Rows are independent; small tensors (norm weights) are not worth a fork.
#pragma omp parallel for schedule(static) if (out.numel() >= (1 << 16))
  for (int64_t i = 0; i < rows; ++i)
    dequantize_row(t.type, src + size_t(i) * row_bytes, dst + i * row, row);
  return out;
}

}  // namespace radlads
