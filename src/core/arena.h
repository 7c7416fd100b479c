// Flat memory: named tensors laid out from a table of (name, shape, dtype)
// back to back in ONE allocation (each tensor 64-byte aligned), and the view
// type layers receive. Gradients and AdamW's two moments are arenas with the
// same table, so zero-grad, clipping, the optimiser, the gradient all-reduce
// and checkpointing are loops over flat memory (CONVENTIONS.md 3), and a
// device backend allocates each arena once on its device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace radlads {

// A device's memory: how an arena on it is allocated, zeroed, copied and
// freed. Every Backend is one (backend/backend.h); core knows no backend.
class DeviceMemory {
 public:
  virtual ~DeviceMemory() = default;
  virtual Device device() const = 0;
  virtual void* alloc(size_t bytes) const = 0;
  virtual void free(void* p) const = 0;
  virtual void copy(void* dst, const void* src, size_t bytes) const = 0;  // within the device
  virtual void zero(void* p, size_t bytes) const = 0;
};

struct TensorSpec {
  std::string name;
  Shape shape;
  DType dtype = DType::F32;
};

class Arena {
 public:
  Arena() = default;
  // Lays out table (names unique) and allocates it, zero-filled; with
  // zero_fill false only the padding is zeroed, so that no page is touched
  // before the caller writes it (filling tensor by tensor while freeing their
  // old storage keeps the peak memory near one copy).
  explicit Arena(std::vector<TensorSpec> table, Device device = Device::Cpu, bool zero_fill = true);
  // The same layout in a device's memory (a Backend's), zeroed there. Its
  // bytes are the device's: read and write them through the backend.
  Arena(std::vector<TensorSpec> table, const DeviceMemory& memory);
  Arena(const Arena& o);  // a deep copy (same layout, same bytes)
  Arena& operator=(const Arena& o);
  Arena(Arena&&) noexcept = default;
  Arena& operator=(Arena&&) noexcept = default;

  size_t size() const { return table_.size(); }
  const std::string& name(size_t i) const { return table_[i].name; }
  const TensorSpec& spec(size_t i) const { return table_[i]; }
  TensorView view(size_t i) const;  // copies the shape: for setup, not per step
  float* f32(size_t i) const;       // CHECKs dtype F32; allocates nothing
  int64_t numel(size_t i) const { return radlads::numel(table_[i].shape); }
  // Index of a name, or -1.
  int64_t index(std::string_view name) const;
  // The F32 tensor under name, or nullptr when the arena has no such name
  // (a frozen parameter, for a gradient arena).
  float* find(std::string_view name) const;
  float* at(std::string_view name) const;  // CHECKs it exists

  // The whole allocation. Padding between tensors is zero and stays zero
  // under the flat loops (scaling, summing arenas of the same layout), so an
  // all-F32 arena can be treated as one float array of flat_numel().
  void* data() const { return mem_.get(); }
  size_t bytes() const { return bytes_; }
  float* flat() const { return static_cast<float*>(data()); }
  int64_t flat_numel() const { return int64_t(bytes_ / sizeof(float)); }
  bool same_layout(const Arena& o) const;
  void zero();  // every byte, in parallel (on its device)
  Device device() const { return device_; }

 private:
  struct Free {
    Free() : memory(nullptr) {}
    explicit Free(const DeviceMemory* m) : memory(m) {}
    const DeviceMemory* memory;  // null: host memory
    void operator()(void* p) const;
  };
  void lay_out();
  std::vector<TensorSpec> table_;
  std::vector<size_t> offset_;
  std::map<std::string, size_t, std::less<>> index_;  // transparent: look up a string_view without a temporary
  std::unique_ptr<void, Free> mem_;
  size_t bytes_ = 0;
  Device device_ = Device::Cpu;
};

}  // namespace radlads
