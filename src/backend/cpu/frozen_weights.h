// The CPU backend's Backend::FrozenWeights: a CpuBackend whose matmul_forward
// runs the weights it holds from their packed copies (packed_matmul.h, or
// oneDNN's bf16 GEMM for a prompt's rows where the CPU has one), and every
// other op as the plain CPU backend.
#pragma once

#include <memory>

#include "backend/backend.h"

namespace radlads {

std::unique_ptr<Backend::FrozenWeights> make_cpu_frozen_weights(WeightFormat f, bool pack_on_first_use);

}  // namespace radlads
