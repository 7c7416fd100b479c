// The runtime GpuOps runs on with a GPU (gpu_ops.h says what a runtime
// provides): one device and one stream per process, memory from the
// stream-ordered allocator (cudaMallocAsync: a scratch buffer per op costs no
// device sync), GEMMs through cuBLAS, kernels launched as __global__
// wrappers of the functors (simt.h). nvcc only.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "backend/cuda/kernels_norms.h"  // kRowBlock
#include "backend/cuda/simt.h"

namespace radlads::gpu {

// fail() with the CUDA / cuBLAS error's text and what was being done.
void cuda_check(cudaError_t e, const char* what);
void cublas_check(cublasStatus_t s, const char* what);

struct CudaContext {
  int device = -1;
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
};
// The process's context, made on first use on `device` (later calls with
// another device fail: one GPU per process, the MPI way).
CudaContext& cuda_context(int device = -1);

template <class Fn, class... A>
__global__ void kernel_entry(A... a) {
  CudaThread k;
  Fn{}(k, a...);
}

struct CudaRuntime {
  static constexpr const char* kName = "cuda";
  static constexpr int kRowBlock = gpu::kRowBlock;

  void* alloc(size_t bytes) const;
  void free(void* p) const;
  void copy(void* dst, const void* src, size_t bytes) const;
  void to_host(void* dst, const void* src, size_t bytes) const;
  void to_device(void* dst, const void* src, size_t bytes) const;
  void synchronize() const;
  // TF32 tensor cores for the fp32 GEMMs (on unless RADLADS_CUDA_TF32=0).
  void set_tf32(bool on) const;
  bool tf32() const;

  void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
            float beta, float* c, int ldc) const;
  void gemm_strided_batched(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, int64_t sa,
                            const float* b, int ldb, int64_t sb, float beta, float* c, int ldc, int64_t sc,
                            int count) const;
  // bf16 operands (raw bits), fp32 accumulation and output.
  void gemm_bf16(bool ta, bool tb, int m, int n, int k, float alpha, const uint16_t* a, int lda, const uint16_t* b,
                 int ldb, float beta, float* c, int ldc) const;
  bool has_bf16() const;

  template <class Fn, class... A>
  void launch(int grid, int block, size_t smem, A... a) const {
    auto f = kernel_entry<Fn, A...>;
    if (smem > 48 * 1024)
      cuda_check(cudaFuncSetAttribute(f, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
                 "asking for more than 48 KB of shared memory");
    f<<<grid, block, smem, cuda_context().stream>>>(a...);
    cuda_check(cudaGetLastError(), "a kernel launch");
  }
};

}  // namespace radlads::gpu
