// Scalar-generic row-major gemm, so an op templated on float/double keeps one
// body: float is the production path (sgemm), double the finite-difference
// test path (dgemm). C = alpha * op(A) * op(B) + beta * C.
#pragma once

#include <cblas.h>

#include <type_traits>

namespace radlads {

template <typename F>
inline void gemm(bool trans_a, bool trans_b, int m, int n, int k, F alpha, const F* a, int lda,
                 const F* b, int ldb, F beta, F* c, int ldc) {
  static_assert(std::is_same_v<F, float> || std::is_same_v<F, double>);
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<F, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace radlads
