#include "backend/cpu/sgemm_ceiling.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/cpu.h"
#include "core/sysinfo.h"
#include "backend/cpu/blas.h"

namespace radlads {

namespace {
using SgemmFn = void (*)(bool, bool, int, int, int, float, const float*, int, const float*, int, float, float*, int);

double gflops_of(SgemmFn f, int n, int reps) {
  std::vector<float> a(size_t(n) * n, 0.5f), b(size_t(n) * n, 0.25f), c(size_t(n) * n);
  double best = 1e30;
  for (int r = 0; r < reps + 1; r++) {  // first run warms caches and threads
    double t0 = now_seconds();
    f(false, true, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    double dt = now_seconds() - t0;
    if (r > 0) best = std::min(best, dt);
  }
  return 2.0 * n * n * double(n) / best / 1e9;
}
}  // namespace

SgemmCeiling measure_sgemm_ceiling(int reps) {
  SgemmCeiling c;
  for (int n : {1024, 2048}) {
    c.ours = std::max(c.ours, gflops_of(&sgemm, n, reps));
    c.openblas = std::max(c.openblas, gflops_of(&sgemm_openblas, n, reps));
  }
  c.gflops = std::max(c.ours, c.openblas);
  c.which = c.ours >= c.openblas ? blas_sgemm_info() : blas_openblas_info();
  return c;
}

double measure_triad_gbps(int reps) {
  const int64_t n = int64_t(16) << 20;
  std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n), 1.0f), c(static_cast<size_t>(n), 2.0f);
  float *pa = a.data(), *pb = b.data(), *pc = c.data();
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    const double t0 = now_seconds();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) pa[i] = pb[i] + 3.0f * pc[i];
    best = std::min(best, now_seconds() - t0);
  }
  return 12.0 * double(n) / best / 1e9;
}

std::string system_line() {
  const CpuFeatures& f = cpu_features();
  return fmt::format("cpu {} [{}] | kernels {} | sgemm {} | dgemm {} | threads {}", f.brand, f.flags(),
                     isa_name(active_isa()), blas_sgemm_info(), blas_openblas_info(), omp_get_max_threads());
}

}  // namespace radlads
