// .npy reader and writer.
#include "io/npy.h"

#include <cstring>

#include "core/byte_reader.h"
#include "core/error.h"
#include "core/file_io.h"

namespace radlads {

void write_npy(const std::string& path, const Shape& shape, std::span<const float> data) {
  CHECK(int64_t(data.size()) == numel(shape), "npy data size");
  std::string dims;
  for (auto d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  h.append(64 - (10 + h.size() + 1) % 64, ' ');  // header padded so data is 64-byte aligned
  h += '\n';
  write_file_atomic(path, [&](std::FILE* f) {
    const char magic[8] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
    uint16_t hl = uint16_t(h.size());
    write_bytes(f, magic, 8, path);
    write_bytes(f, &hl, 2, path);
    write_bytes(f, h.data(), h.size(), path);
    write_bytes(f, data.data(), data.size() * 4, path);
  });
}

Tensor read_npy(const std::string& path) {
  MappedFile mf(path);
  ByteReader r(mf.bytes(), path);
  std::string_view magic = r.read_bytes(8, "magic");
  if (magic.substr(0, 6) != "\x93NUMPY") fail("{}: not a .npy file (bad magic)", path);
  uint32_t hl = magic[6] == 1 ? r.read<uint16_t>("header length") : r.read<uint32_t>("header length");
  std::string h(r.read_bytes(hl, "header"));
  if (h.find("'descr': '<f4'") == std::string::npos) fail("{}: only little-endian float32 is supported", path);
  if (h.find("'fortran_order': False") == std::string::npos) fail("{}: Fortran order is not supported", path);
  size_t a = h.find('('), b = h.find(')');
  if (a == std::string::npos || b == std::string::npos || b < a) fail("{}: header has no shape", path);
  Shape shape;
  std::string dims = h.substr(a + 1, b - a - 1);
  for (size_t p = 0; p < dims.size();) {
    size_t q = dims.find(',', p);
    std::string d = dims.substr(p, q == std::string::npos ? std::string::npos : q - p);
    if (d.find_first_not_of(' ') != std::string::npos) {
      try {
        shape.push_back(std::stoll(d));
      } catch (...) {
        fail("{}: bad shape '{}'", path, dims);
      }
      if (shape.back() < 0 || shape.back() > (int64_t(1) << 40)) fail("{}: bad shape '{}'", path, dims);
    }
    if (q == std::string::npos) break;
    p = q + 1;
  }
  int64_t n = 1;  // the element count, refused before it could overflow
  for (int64_t d : shape) {
    if (d != 0 && n > (int64_t(1) << 60) / d) fail("{}: bad shape '{}': too many elements", path, dims);
    n *= d;
  }
  if (uint64_t(n) * 4 > r.size() - r.pos()) fail("{}: truncated: shape needs {} floats", path, n);
  Tensor t(shape);
  if (n > 0) std::memcpy(t.ptr(), mf.bytes().data() + r.pos(), size_t(n) * 4);
  return t;
}

}  // namespace radlads
