// The "cuda" backend: GpuOps (gpu_ops.h) on CudaRuntime, and the runtime's
// memory, transfers and cuBLAS calls.
#include <cuda_bf16.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_runtime.cuh"
#include "backend/cuda/gpu_ops.h"

namespace radlads {
namespace gpu {

void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) gpu_fail("CUDA error during ", what, ": ", cudaGetErrorString(e));
}

void cublas_check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) gpu_fail("cuBLAS error ", int(s), " during ", what);
}

namespace {
std::mutex g_mu;
CudaContext g_ctx;
std::atomic<bool> g_tf32{true};
}  // namespace

CudaContext& cuda_context(int device) {
  if (g_ctx.device >= 0 && (device < 0 || device == g_ctx.device)) return g_ctx;
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_ctx.device >= 0) {
    if (device >= 0 && device != g_ctx.device)
      gpu_fail("this process already computes on cuda:", g_ctx.device,
               "; one GPU per process (launch one rank per GPU)");
    return g_ctx;
  }
  const int d = device < 0 ? 0 : device;
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) gpu_fail("no CUDA GPU is visible (cudaGetDeviceCount)");
  if (d >= n) gpu_fail("cuda:", d, " asked for, but ", n, " GPU(s) are visible");
  cuda_check(cudaSetDevice(d), "cudaSetDevice");
  cuda_check(cudaStreamCreateWithFlags(&g_ctx.stream, cudaStreamNonBlocking), "creating the stream");
  cublas_check(cublasCreate(&g_ctx.blas), "cublasCreate");
  cublas_check(cublasSetStream(g_ctx.blas, g_ctx.stream), "cublasSetStream");
  const char* tf = std::getenv("RADLADS_CUDA_TF32");
  g_tf32 = !(tf && std::string(tf) == "0");
  cublas_check(cublasSetMathMode(g_ctx.blas, g_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
               "cublasSetMathMode");
  // Keep freed scratch in the pool rather than returning it at every sync.
  cudaMemPool_t pool;
  if (cudaDeviceGetDefaultMemPool(&pool, d) == cudaSuccess) {
    uint64_t keep = UINT64_MAX;
    cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep);
  }
  g_ctx.device = d;
  return g_ctx;
}

void* CudaRuntime::alloc(size_t bytes) const {
  void* p = nullptr;
  const cudaError_t e = cudaMallocAsync(&p, bytes ? bytes : 1, cuda_context().stream);
  if (e != cudaSuccess) gpu_fail("out of GPU memory allocating ", bytes, " bytes (", cudaGetErrorString(e), ")");
  return p;
}

void CudaRuntime::free(void* p) const {
  if (p) cuda_check(cudaFreeAsync(p, cuda_context().stream), "cudaFreeAsync");
}

void CudaRuntime::copy(void* dst, const void* src, size_t bytes) const {
  cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cuda_context().stream), "a device copy");
}

void CudaRuntime::to_host(void* dst, const void* src, size_t bytes) const {
  cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cuda_context().stream), "a copy to the host");
  synchronize();
}

void CudaRuntime::to_device(void* dst, const void* src, size_t bytes) const {
  cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cuda_context().stream), "a copy to the GPU");
  synchronize();
}

void CudaRuntime::synchronize() const { cuda_check(cudaStreamSynchronize(cuda_context().stream), "the stream"); }

void CudaRuntime::set_tf32(bool on) const {
  CudaContext& c = cuda_context();
  g_tf32 = on;
  cublas_check(cublasSetMathMode(c.blas, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
}

bool CudaRuntime::tf32() const { return g_tf32; }

// Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: cuBLAS gets B
// first, with the same transpose flags, and the dimensions swapped.
static cublasOperation_t op(bool t) { return t ? CUBLAS_OP_T : CUBLAS_OP_N; }

void CudaRuntime::gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                       int ldb, float beta, float* c, int ldc) const {
  if (m <= 0 || n <= 0) return;
  cublas_check(cublasSgemm(cuda_context().blas, op(tb), op(ta), n, m, k, &alpha, b, ldb, a, lda, &beta, c, ldc),
               "cublasSgemm");
}

void CudaRuntime::gemm_strided_batched(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
                                       int64_t sa, const float* b, int ldb, int64_t sb, float beta, float* c, int ldc,
                                       int64_t sc, int count) const {
  if (m <= 0 || n <= 0 || count <= 0) return;
  cublas_check(cublasSgemmStridedBatched(cuda_context().blas, op(tb), op(ta), n, m, k, &alpha, b, ldb, sb, a, lda, sa,
                                         &beta, c, ldc, sc, count),
               "cublasSgemmStridedBatched");
}

void CudaRuntime::gemm_bf16(bool ta, bool tb, int m, int n, int k, float alpha, const uint16_t* a, int lda,
                            const uint16_t* b, int ldb, float beta, float* c, int ldc) const {
  if (m <= 0 || n <= 0) return;
  cublas_check(cublasGemmEx(cuda_context().blas, op(tb), op(ta), n, m, k, &alpha, b, CUDA_R_16BF, ldb, a,
                            CUDA_R_16BF, lda, &beta, c, CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx (bf16)");
}

bool CudaRuntime::has_bf16() const {
  cudaDeviceProp p{};
  cuda_check(cudaGetDeviceProperties(&p, cuda_context().device), "cudaGetDeviceProperties");
  return p.major >= 8;
}

}  // namespace gpu

bool cuda_built() { return true; }

int cuda_device_count() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

const Backend& cuda_backend(int device) {
  gpu::cuda_context(device);  // fails with a clear line when there is no such GPU
  static const gpu::GpuOps<gpu::CudaRuntime> be;
  return be;
}

void cuda_set_tf32(bool on) { gpu::CudaRuntime().set_tf32(on); }

size_t cuda_memory_high_water() {
  cudaMemPool_t pool;
  gpu::cuda_check(cudaDeviceGetDefaultMemPool(&pool, gpu::cuda_context().device), "cudaDeviceGetDefaultMemPool");
  uint64_t used = 0;
  gpu::cuda_check(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &used), "cudaMemPoolGetAttribute");
  return size_t(used);
}

void cuda_reset_memory_high_water() {
  cudaMemPool_t pool;
  gpu::cuda_check(cudaDeviceGetDefaultMemPool(&pool, gpu::cuda_context().device), "cudaDeviceGetDefaultMemPool");
  uint64_t zero = 0;
  gpu::cuda_check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &zero), "cudaMemPoolSetAttribute");
}

std::string cuda_device_summary() {
  const gpu::CudaContext& c = gpu::cuda_context();
  cudaDeviceProp p{};
  gpu::cuda_check(cudaGetDeviceProperties(&p, c.device), "cudaGetDeviceProperties");
  char line[512];
  std::snprintf(line, sizeof line, "%s: %d SMs, %.1f GiB, sm_%d%d", p.name, p.multiProcessorCount,
                double(p.totalGlobalMem) / double(1 << 30), p.major, p.minor);
  return line;
}

}  // namespace radlads
