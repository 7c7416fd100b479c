// A Tensor's values: either its own std::vector, or a slice of an arena (a
// model's parameters live in one allocation, core/arena.h). The vector-like
// API is the same for both, so code reads and writes weights without knowing
// where they live; only an owning buffer can change size. Copying a buffer
// always makes an owning copy (a copied Model owns its weights); assigning
// to a slice, by copy or by move, copies the values into it (sizes must
// match), so a packed weight never silently leaves its model's arena.
#pragma once

#include <cstddef>
#include <vector>

namespace radlads {

class FloatBuffer {
 public:
  FloatBuffer() = default;
  explicit FloatBuffer(size_t n, float v = 0.0f) : own_(n, v) { sync(); }
  FloatBuffer(std::vector<float> v) : own_(std::move(v)) { sync(); }  // NOLINT: implicit, like a vector
  FloatBuffer(const FloatBuffer& o) : own_(o.begin(), o.end()) { sync(); }
  FloatBuffer(FloatBuffer&& o) noexcept { *this = std::move(o); }
  FloatBuffer& operator=(const FloatBuffer& o);
  FloatBuffer& operator=(FloatBuffer&& o) noexcept;
  FloatBuffer& operator=(const std::vector<float>& v);
  FloatBuffer& operator=(std::vector<float>&& v);

  // Makes this buffer a view of p[0..n) (n must equal size()): the values
  // are copied there and the own vector is freed.
  void move_into(float* p);
  // A view of p[0..n) without touching it (p may be a device's memory: the
  // values are not read or written here).
  static FloatBuffer view_of(float* p, size_t n);
  bool is_view() const { return view_; }

  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  float* data() { return p_; }
  const float* data() const { return p_; }
  float& operator[](size_t i) { return p_[i]; }
  const float& operator[](size_t i) const { return p_[i]; }
  float* begin() { return p_; }
  float* end() { return p_ + n_; }
  const float* begin() const { return p_; }
  const float* end() const { return p_ + n_; }
  void resize(size_t n, float v = 0.0f);  // owning buffers only (CHECKed)
  void assign(size_t n, float v);         // owning: resize; view: n must equal size()
  template <class It>
  void assign(It first, It last) {
    *this = std::vector<float>(first, last);
  }
  operator std::vector<float>() const { return std::vector<float>(begin(), end()); }  // NOLINT
  bool operator==(const FloatBuffer& o) const;
  bool operator==(const std::vector<float>& v) const;

 private:
  void sync() {
    view_ = false;
    p_ = own_.data();
    n_ = own_.size();
  }
  std::vector<float> own_;
  float* p_ = nullptr;
  size_t n_ = 0;
  bool view_ = false;
};

}  // namespace radlads
