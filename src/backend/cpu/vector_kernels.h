// Streaming kernels over flat float arrays, built per ISA (backend/cpu/isa.h): the
// AdamW update and the sum of squares behind the global gradient norm. Both
// are memory-bound over every trainable parameter once per optimiser step.
#pragma once

#include <cstdint>

#include "backend/backend.h"  // AdamWStep
#include "backend/cpu/isa.h"

namespace radlads {

// torch's AdamW for one tensor of n elements, in place:
//   w ← w·decay − step_size · m / (√v / sqrt_bc2 + eps),
//   m ← b1·m + (1−b1)·g,  v ← b2·v + (1−b2)·g²  (m and v updated first).
void adamw_update(float* w, float* m, float* v, const float* g, int64_t n, const AdamWStep& s);

// Σ x² in double, in a fixed order (blocks of 2^16 reduced in index order, 8
// interleaved partial sums inside a block): the same bits for any thread count.
double sum_squares(const float* x, int64_t n);
// The blocks' sums alone: part[b] over x[b·block, (b+1)·block) (sum_squares
// adds them in order).
void sum_squares_blocks(const float* x, int64_t n, int64_t block, double* part);

}  // namespace radlads

#define RADLADS_VECTOR_KERNELS                                                                  \
  void adamw_update(float* w, float* m, float* v, const float* g, int64_t n, const ::radlads::AdamWStep& s); \
  double sum_squares_block(const float* x, int64_t n);
RADLADS_ISA_DECLARE(RADLADS_VECTOR_KERNELS)
