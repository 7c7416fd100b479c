// GEMM entry points: oneDNN for float, OpenBLAS for double (see blas.h).
#include "backend/cpu/blas.h"

#include <cblas.h>
#include <dnnl.h>

#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>

#include "core/cpu.h"
#include "core/error.h"
#include "core/library_call.h"

extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);

namespace radlads {

// oneDNN picks its kernel family once, at its first GEMM. When our own
// kernels are forced to AVX2 (RADLADS_ISA=avx2, standing in for an AVX2-only
// machine), cap oneDNN at AVX2 too, so one switch moves the whole process.
// DNNL_MAX_CPU_ISA, when set, is the user's and wins.
void onednn_configure() {
  static const bool once = [] {
    if (active_isa() == Isa::AVX2 && !std::getenv("DNNL_MAX_CPU_ISA")) dnnl_set_max_cpu_isa(dnnl_cpu_isa_avx2);
    return true;
  }();
  (void)once;
}

namespace {

const char* onednn_isa_name(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // op(A)·op(B) is empty: C = beta·C (BLAS semantics; beta 0 overwrites NaNs)
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) c[int64_t(i) * ldc + j] = beta == 0.0f ? 0.0f : beta * c[int64_t(i) * ldc + j];
    return;
  }
  onednn_configure();
  const LibraryCall lib;
  const dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb,
                                      beta, c, ldc);
  CHECK(st == dnnl_success, "dnnl_sgemm failed (status {}) for m={} n={} k={} lda={} ldb={} ldc={}", int(st), m,
        n, k, lda, ldb, ldc);
}

void sgemm_openblas(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                    const float* b, int ldb, float beta, float* c, int ldc) {
  const LibraryCall lib;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
              alpha, a, lda, b, ldb, beta, c, ldc);
}

void dgemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double* a, int lda,
           const double* b, int ldb, double beta, double* c, int ldc) {
  const LibraryCall lib;
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
              alpha, a, lda, b, ldb, beta, c, ldc);
}

std::string blas_sgemm_info() {
  onednn_configure();
  const dnnl_version_t* v = dnnl_version();
  return fmt::format("oneDNN {}.{}.{} sgemm ({})", v->major, v->minor, v->patch,
                     onednn_isa_name(dnnl_get_effective_cpu_isa()));
}

std::string blas_openblas_info() {
  const std::string cfg = openblas_get_config();
  const std::string ver = cfg.substr(0, cfg.find(' ', cfg.find(' ') + 1));  // "OpenBLAS 0.3.21"
  return fmt::format("{} ({})", ver, openblas_get_corename());
}

}  // namespace radlads
