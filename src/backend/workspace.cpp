#include "backend/workspace.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace radlads {

namespace {
constexpr size_t kAlignFloats = 16;              // 64 bytes
constexpr size_t kMinBlockFloats = size_t(1) << 18;  // 1 MiB: the first pass's first block
size_t round_up(size_t n) { return (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }
}  // namespace

Workspace::Workspace(const Backend& be) : be_(&be) {
  const char* p = std::getenv("RADLADS_WORKSPACE_POISON");
  poison_ = p && std::strcmp(p, "0") != 0 && *p;
}

Workspace::~Workspace() {
  for (Block& b : blocks_) be_->free(b.p);
}

size_t Workspace::in_use() const {
  size_t n = 0;
  for (size_t i = 0; i <= cur_ && i < blocks_.size(); i++) n += blocks_[i].used;
  return n;
}

size_t Workspace::capacity_bytes() const {
  size_t n = 0;
  for (const Block& b : blocks_) n += b.cap;
  return n * sizeof(float);
}

void Workspace::settle() {
  // One block of the high-water size: keep it if that is what there is.
  if (blocks_.size() == 1 && blocks_[0].cap >= high_water_) {
    blocks_[0].used = 0;
    cur_ = 0;
    return;
  }
  for (Block& b : blocks_) be_->free(b.p);
  blocks_.clear();
  cur_ = 0;
  if (high_water_ == 0) return;
  Block b;
  b.cap = high_water_;
  b.p = static_cast<float*>(be_->alloc(b.cap * sizeof(float)));
  blocks_.push_back(b);
}

void Workspace::reserve(int64_t n) {
  const size_t want = round_up(size_t(std::max<int64_t>(n, 0)));
  if (blocks_.size() == 1 && blocks_[0].cap >= want) return;
  high_water_ = std::max(high_water_, want);
  settle();  // one block of the high-water size, the old ones freed first
}

void Workspace::reset() { settle(); }

std::span<float> Workspace::take(int64_t n) {
  const size_t want = round_up(size_t(std::max<int64_t>(n, 0)));
  // The current block, else a later one left by release(), else a new one.
  while (!blocks_.empty() && blocks_[cur_].used + want > blocks_[cur_].cap && cur_ + 1 < blocks_.size()) {
    cur_++;
    blocks_[cur_].used = 0;
  }
  if (blocks_.empty() || blocks_[cur_].used + want > blocks_[cur_].cap) {
    Block b;
    b.cap = std::max({want, kMinBlockFloats, blocks_.empty() ? size_t(0) : 2 * blocks_.back().cap});
    b.p = static_cast<float*>(be_->alloc(b.cap * sizeof(float)));
    blocks_.push_back(b);
    cur_ = blocks_.size() - 1;
  }
  Block& b = blocks_[cur_];
  float* p = b.p + b.used;
  b.used += want;
  high_water_ = std::max(high_water_, in_use());
  if (poison_ && n > 0) be_->fill(p, std::numeric_limits<float>::quiet_NaN(), n);
  return {p, size_t(std::max<int64_t>(n, 0))};
}

void Workspace::release(Mark m) {
  if (blocks_.empty()) return;
  cur_ = m.block;
  blocks_[cur_].used = m.used;
}

}  // namespace radlads
