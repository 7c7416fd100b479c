// A model's activations and scratch: one block of a backend's memory handed
// out front to back. The owner (the student, the teacher, an objective)
// starts each pass with reset(); every buffer of the pass is take(n), in the
// pass's fixed order, and stays valid until the next reset(). A stretch that
// needs its buffers only for a while (one layer while decoding, one layer's
// backward scratch) sits between mark() and release(), so the next stretch
// reuses that memory.
//
// Planning: the first pass of a shape learns its high-water mark. Whatever it
// needed beyond the block came from extra blocks, which the end of that pass
// (reset() or settle()) replaces with one block of the high-water size. From
// then on a pass of that shape or smaller is one allocation, made once:
// nothing per training step or decoded token.
//
// RADLADS_WORKSPACE_POISON=1 fills every taken buffer with NaN, so that a
// test run proves no code reads a buffer before writing it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "backend/backend.h"

namespace radlads {

class Workspace {
 public:
  explicit Workspace(const Backend& be);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  // Ends the pass (see settle) and starts the next: every buffer is released.
  void reset();
  // Ends the pass without starting one: merges extra blocks into one of the
  // high-water size. Every buffer taken before is invalid afterwards.
  void settle();

  // Between passes: makes the next pass one block of at least n floats when
  // its size is known ahead (a memory plan), so that its first pass does not
  // grow block by block (which touches up to twice the high-water mark).
  void reserve(int64_t n);

  // n floats, 64-byte aligned, contents undefined.
  std::span<float> take(int64_t n);

  struct Mark {
    size_t block = 0, used = 0;
  };
  Mark mark() const { return {cur_, blocks_.empty() ? 0 : blocks_[cur_].used}; }
  // Gives back everything taken since m (in this pass).
  void release(Mark m);

  size_t capacity_bytes() const;                               // allocated now
  size_t high_water_bytes() const { return high_water_ * sizeof(float); }  // the largest pass so far

 private:
  struct Block {
    float* p = nullptr;
    size_t cap = 0, used = 0;  // floats
  };
  size_t in_use() const;  // floats taken in this pass
  const Backend* be_;
  std::vector<Block> blocks_;
  size_t cur_ = 0;
  size_t high_water_ = 0;
  bool poison_ = false;
};

}  // namespace radlads
