// A token mixer: what a decoder layer does between its input norm and the
// residual add (DESIGN.md): RAD-RWKV6's or RAD-RWKV7's time mix, or the
// teacher's softmax attention in a hybrid student's layers. One object serves
// one layer, bound to the model's weights by HF name; its forward keeps what
// its backward needs. Every buffer comes from the Workspace the mixer was
// made with: what forward takes lives until the owner's next reset(), what
// backward takes beyond that may be released by the caller after it returns.
#pragma once

#include <cstdint>

#include "backend/backend.h"
#include "backend/workspace.h"
#include "core/arena.h"
#include "models/time_mix.h"
#include "backend/rope_table.h"

namespace radlads {

// Floats per row (of the B·T) a training pass of one layer's mixer takes from
// its Workspace: what forward keeps for the backward, and what the backward
// takes beyond that (the memory plan, train/memory_plan.h; a test holds the
// sums to the Workspace's own measure).
struct MixerTrainFloats {
  int64_t forward = 0, backward = 0;
};

class TokenMixer {
 public:
  virtual ~TokenMixer() = default;

  // B sequences of T tokens (d). Decode state travels in io: a recurrent
  // mixer reads and updates io.state / io.shift (null: zero, a training
  // window); softmax attention appends to io.kv[b] (null: a fresh causal
  // window, the training forward).
  virtual void forward(const MixDims& d, TimeMixIO& io, const RopeTable& rope) = 0;

  // Backward of the last forward from fresh windows: d_y (M,C) -> d_xn (M,C)
  // written; parameter gradients accumulated (+=) into g by HF name (absent
  // names are frozen); d_v_first (M,A) gets the value-residual gradient of a
  // mixer that reads v_first (RAD-RWKV7), others leave it untouched.
  virtual void backward(float* d_xn, float* d_v_first, const float* d_y, const MixDims& d, const int32_t* pos,
                        const float* v_first, const RopeTable& rope, Arena* g) = 0;
};

}  // namespace radlads
