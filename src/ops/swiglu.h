// SwiGLU gating of the MLP: out = silu(gate) * up, elementwise.
#pragma once

#include <cstdint>

namespace radlads {

void swiglu_forward(float* out, const float* gate, const float* up, int64_t n);

}  // namespace radlads
