// Row-major GEMM, C = alpha·op(A)·op(B) + beta·C, for both precisions, so an
// op templated on float/double keeps one body: float is the production path,
// double the finite-difference test path.
//
// float goes to oneDNN's sgemm: its JIT kernels are chosen at run time from
// the CPU's feature bits (AVX2, AVX-512, AMX), so an unknown CPU model still
// gets the right kernels, and it measured ahead of OpenBLAS 0.3.21 on every
// training shape (bench/bench_sgemm.cpp). double stays on OpenBLAS's dgemm
// (only tests run it). Every GEMM of the project goes through here.
#pragma once

#include <string>
#include <type_traits>

namespace radlads {

void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc);
void dgemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double* a, int lda,
           const double* b, int ldb, double beta, double* c, int ldc);
// The same sgemm through OpenBLAS, for the benchmarks' ceiling and for
// comparing the two libraries (bench/bench_sgemm.cpp).
void sgemm_openblas(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                    const float* b, int ldb, float beta, float* c, int ldc);

template <typename F>
inline void gemm(bool trans_a, bool trans_b, int m, int n, int k, F alpha, const F* a, int lda,
                 const F* b, int ldb, F beta, F* c, int ldc) {
  static_assert(std::is_same_v<F, float> || std::is_same_v<F, double>);
  if constexpr (std::is_same_v<F, float>)
    sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else
    dgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Fixes oneDNN's kernel family before its first use (capped at AVX2 when our
// kernels are forced to AVX2); every oneDNN caller runs it first. Idempotent.
void onednn_configure();

// "oneDNN 2.6.3 sgemm (avx512_core_amx)": the library and the kernel family it
// runs on this CPU. Fixes that family for the process (see blas.cpp).
std::string blas_sgemm_info();
// "OpenBLAS 0.3.21 (SkylakeX)" as that library reports itself.
std::string blas_openblas_info();

}  // namespace radlads
