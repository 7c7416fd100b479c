#include "core/float_buffer.h"

#include <algorithm>

#include "core/error.h"

namespace radlads {

FloatBuffer& FloatBuffer::operator=(const FloatBuffer& o) {
  if (this == &o) return *this;
  if (view_) {
    CHECK(o.size() == n_, "assigning {} values to a tensor slice of {}", o.size(), n_);
    std::copy(o.begin(), o.end(), p_);
  } else {
    own_.assign(o.begin(), o.end());
    sync();
  }
  return *this;
}

FloatBuffer& FloatBuffer::operator=(FloatBuffer&& o) noexcept {
  if (this == &o) return *this;
  if (view_) return *this = static_cast<const FloatBuffer&>(o);  // a slice stays a slice: copy into it
  own_ = std::move(o.own_);
  view_ = o.view_;
  p_ = view_ ? o.p_ : own_.data();
  n_ = o.n_;
  o.own_.clear();
  o.sync();
  return *this;
}

FloatBuffer& FloatBuffer::operator=(const std::vector<float>& v) {
  if (view_) {
    CHECK(v.size() == n_, "assigning {} values to a tensor slice of {}", v.size(), n_);
    std::copy(v.begin(), v.end(), p_);
  } else {
    own_ = v;
    sync();
  }
  return *this;
}

FloatBuffer& FloatBuffer::operator=(std::vector<float>&& v) {
  if (view_) return *this = static_cast<const std::vector<float>&>(v);
  own_ = std::move(v);
  sync();
  return *this;
}

void FloatBuffer::move_into(float* p) {
  std::copy(begin(), end(), p);
  std::vector<float>().swap(own_);
  p_ = p;
  view_ = true;
}

void FloatBuffer::resize(size_t n, float v) {
  CHECK(!view_ || n == n_, "resizing a tensor slice of {} to {}", n_, n);
  if (view_) return;
  own_.resize(n, v);
  sync();
}

void FloatBuffer::assign(size_t n, float v) {
  if (view_) {
    CHECK(n == n_, "assigning {} values to a tensor slice of {}", n, n_);
    std::fill(begin(), end(), v);
    return;
  }
  own_.assign(n, v);
  sync();
}

bool FloatBuffer::operator==(const FloatBuffer& o) const { return std::equal(begin(), end(), o.begin(), o.end()); }
bool FloatBuffer::operator==(const std::vector<float>& v) const {
  return std::equal(begin(), end(), v.begin(), v.end());
}

FloatBuffer FloatBuffer::view_of(float* p, size_t n) {
  FloatBuffer b;
  b.view_ = true;
  b.p_ = p;
  b.n_ = n;
  return b;
}

}  // namespace radlads
