// A small array in a backend's memory that keeps its capacity: the index
// arrays a model hands to the ops (token ids, positions) on a device backend,
// filled from the host or from another device array each pass. Grows only
// when a pass needs more than any before (no allocation per step).
#pragma once

#include <cstddef>
#include <vector>

#include "backend/backend.h"

namespace radlads {

template <class T>
class DeviceArray {
 public:
  explicit DeviceArray(const Backend& be) : be_(&be) {}
  DeviceArray(const Backend& be, size_t n) : be_(&be) { zeros(n); }
  ~DeviceArray() { be_->free(p_); }
  // Copies are deep, on the device.
  DeviceArray(const DeviceArray& o) : be_(o.be_) {
    if (o.n_) copy_from(o.p_, o.n_);
  }
  DeviceArray& operator=(const DeviceArray& o) {
    if (this != &o) {
      be_->free(p_);
      be_ = o.be_, p_ = nullptr, n_ = cap_ = 0;
      if (o.n_) copy_from(o.p_, o.n_);
    }
    return *this;
  }
  DeviceArray(DeviceArray&& o) noexcept : be_(o.be_), p_(o.p_), n_(o.n_), cap_(o.cap_) { o.p_ = nullptr, o.n_ = o.cap_ = 0; }
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) {
      be_->free(p_);
      be_ = o.be_, p_ = o.p_, n_ = o.n_, cap_ = o.cap_;
      o.p_ = nullptr, o.n_ = o.cap_ = 0;
    }
    return *this;
  }

  // n elements, contents undefined (kept when n fits the capacity).
  T* ensure(size_t n) {
    reserve(n);
    n_ = n;
    return p_;
  }
  // n zero elements (sizeof(T) a multiple of 4: floats and 32-bit ints).
  T* zeros(size_t n) {
    static_assert(sizeof(T) % 4 == 0);
    reserve(n);
    n_ = n;
    if (n) be_->zero(p_, n * sizeof(T));
    return p_;
  }
  const Backend& backend() const { return *be_; }

  // n elements from host memory; returns the device copy.
  T* upload(const T* host, size_t n) {
    reserve(n);
    be_->to_device(p_, host, n * sizeof(T));
    n_ = n;
    return p_;
  }
  T* upload(const std::vector<T>& host) { return upload(host.data(), host.size()); }
  // n elements from the backend's own memory.
  T* copy_from(const T* device, size_t n) {
    reserve(n);
    be_->copy(p_, device, n * sizeof(T));
    n_ = n;
    return p_;
  }
  T* data() const { return p_; }
  size_t size() const { return n_; }

 private:
  void reserve(size_t n) {
    if (n <= cap_) return;
    be_->free(p_);
    p_ = static_cast<T*>(be_->alloc(n * sizeof(T)));
    cap_ = n;
  }
  const Backend* be_;
  T* p_ = nullptr;
  size_t n_ = 0, cap_ = 0;
};

}  // namespace radlads
