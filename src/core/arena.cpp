#include "core/arena.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/error.h"

namespace radlads {

namespace {
constexpr size_t kAlign = 64;  // a cache line, and one AVX-512 register
size_t round_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
// n bytes of memory's (null: the host's, 64-byte aligned), contents undefined.
void* allocate(const DeviceMemory* memory, size_t n) {
  void* p = memory ? memory->alloc(n) : std::aligned_alloc(kAlign, n);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void Arena::Free::operator()(void* p) const {
  if (memory)
    memory->free(p);
  else
    std::free(p);
}

void Arena::lay_out() {
  size_t off = 0;
  for (size_t i = 0; i < table_.size(); i++) {
    const TensorSpec& s = table_[i];
    CHECK(index_.emplace(s.name, i).second, "arena: the name {} appears twice", s.name);
    offset_.push_back(off);
    off += round_up(size_t(radlads::numel(s.shape)) * dtype_size(s.dtype));
  }
  bytes_ = off;
}

Arena::Arena(std::vector<TensorSpec> table, const DeviceMemory& memory)
    : table_(std::move(table)), device_(memory.device()) {
  lay_out();
  if (bytes_) mem_ = std::unique_ptr<void, Free>(allocate(&memory, bytes_), Free{&memory});
  zero();
}

Arena::Arena(std::vector<TensorSpec> table, Device device, bool zero_fill)
    : table_(std::move(table)), device_(device) {
  lay_out();
  if (bytes_ > 0) {
    void* p = allocate(nullptr, bytes_);
    mem_.reset(p);
    if (zero_fill) {
      zero();
    } else {  // the padding only: the flat loops' promise
      for (size_t i = 0; i < table_.size(); i++) {
        const size_t used = size_t(radlads::numel(table_[i].shape)) * dtype_size(table_[i].dtype);
        const size_t end = i + 1 < table_.size() ? offset_[i + 1] : bytes_;
        std::memset(static_cast<char*>(p) + offset_[i] + used, 0, end - offset_[i] - used);
      }
    }
  }
}

Arena::Arena(const Arena& o) : table_(o.table_), device_(o.device_) {
  lay_out();
  if (!bytes_) return;
  const DeviceMemory* m = o.mem_.get_deleter().memory;  // a device arena is copied on its device
  mem_ = std::unique_ptr<void, Free>(allocate(m, bytes_), Free{m});
  if (m)
    m->copy(data(), o.data(), bytes_);
  else
    std::memcpy(data(), o.data(), bytes_);
}

Arena& Arena::operator=(const Arena& o) {
  if (this != &o) *this = Arena(o);
  return *this;
}

TensorView Arena::view(size_t i) const {
  CHECK(i < table_.size(), "arena: tensor {} of {}", i, table_.size());
  return TensorView{static_cast<char*>(data()) + offset_[i], table_[i].shape, table_[i].dtype, device_};
}

float* Arena::f32(size_t i) const {
  CHECK(i < table_.size() && table_[i].dtype == DType::F32, "arena: tensor {} of {} is not f32", i, table_.size());
  return reinterpret_cast<float*>(static_cast<char*>(data()) + offset_[i]);
}

int64_t Arena::index(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : int64_t(it->second);
}

float* Arena::find(std::string_view name) const {
  const int64_t i = index(name);
  return i < 0 ? nullptr : f32(size_t(i));
}

float* Arena::at(std::string_view name) const {
  float* p = find(name);
  CHECK(p, "arena: no tensor {}", name);
  return p;
}

bool Arena::same_layout(const Arena& o) const {
  if (table_.size() != o.table_.size() || bytes_ != o.bytes_) return false;
  for (size_t i = 0; i < table_.size(); i++)
    if (table_[i].name != o.table_[i].name || table_[i].shape != o.table_[i].shape ||
        table_[i].dtype != o.table_[i].dtype)
      return false;
  return true;
}

void Arena::zero() {
  if (const DeviceMemory* m = mem_.get_deleter().memory) {
    if (bytes_) m->zero(data(), bytes_);
    return;
  }
  char* p = static_cast<char*>(data());
  const int64_t chunk = 1 << 20, n = int64_t(bytes_);
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < n; o += chunk) std::memset(p + o, 0, size_t(std::min(chunk, n - o)));
}

}  // namespace radlads
