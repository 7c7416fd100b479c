// The CUDA backend (gpu_ops.h on CudaRuntime, cuda_backend.cu), built when
// CMake finds nvcc; without it, cuda_absent.cpp answers instead.
#pragma once

#include <string>

#include "backend/backend.h"

namespace radlads {

bool cuda_built();        // this binary has the CUDA backend
int cuda_device_count();  // GPUs the driver shows (0 without a driver or a GPU)
// The backend on GPU `device`: the first call picks the process's GPU, a later
// one naming another fails. Throws Error (one line) when there is no such GPU
// or the build has no CUDA.
const Backend& cuda_backend(int device = 0);
// "Name: 132 SMs, 79.1 GiB, sm_90" for the GPU in use, for logs and benchmarks.
std::string cuda_device_summary();
// TF32 tensor cores for the fp32 GEMMs: on by default (RADLADS_CUDA_TF32=0
// turns them off); the op tests turn them off to compare at fp32 tolerances.
void cuda_set_tf32(bool on);
// The most GPU memory this process's allocations have held at once (the
// stream-ordered pool's high-water mark), and a reset of that mark.
size_t cuda_memory_high_water();
void cuda_reset_memory_high_water();

}  // namespace radlads
