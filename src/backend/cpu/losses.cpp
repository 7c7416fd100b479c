// Fused loss + gradient kernels (see losses.h for the contract). Numerics: the
// exponentials are evaluated in the input precision (fp32 for training, a
// 1-ulp relative error each) after subtracting the row maximum (no overflow),
// and every sum over V or C is a double, so a 150k-entry vocabulary row loses
// no digits to accumulation.
#include "backend/cpu/losses.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "backend/cpu/scratch.h"

namespace radlads {

// Runs row(m, scratch) → loss for every row, chunk_rows rows per parallel task,
// and sums the per-row losses in row order: identical for any chunking.
template <typename F, typename RowFn>
static double sum_rows(int64_t M, int64_t chunk_rows, size_t scratch_size, RowFn&& row) {
  CHECK(chunk_rows > 0, "chunk_rows {} must be positive", chunk_rows);
  // Per thread and kept (OpenMP's workers live as long as the process): no
  // allocation once the first call has sized them.
  thread_local std::vector<double> row_loss_buf;
  double* row_loss = grown(row_loss_buf, size_t(std::max<int64_t>(M, 0))).data();  // not named by the workers
  const int64_t nchunks = (M + chunk_rows - 1) / chunk_rows;
#pragma omp parallel
  {
    thread_local std::vector<F> scratch_buf;
    F* scratch = grown(scratch_buf, scratch_size).data();
#pragma omp for schedule(dynamic)
    for (int64_t c = 0; c < nchunks; c++)
      for (int64_t m = c * chunk_rows; m < std::min(M, (c + 1) * chunk_rows); m++)
        row_loss[m] = row(m, scratch);
  }
  double total = 0;
  for (int64_t m = 0; m < M; m++) total += row_loss[m];
  return total;
}

template <typename F>
static F row_max(const F* x, int64_t n) {
  F mx = -INFINITY;
  for (int64_t i = 0; i < n; i++) mx = std::max(mx, x[i]);
  return mx;
}

// loss = lse(x) - x[t];  d = grad_scale·(softmax(x) - onehot(t)). The
// exponentials go straight into the gradient row (then scaled), so no scratch.
template <typename F>
double cross_entropy_forward_backward_t(F* d_logits, F* losses, const F* logits,
                                        const int32_t* targets, int64_t M, int64_t V,
                                        double grad_scale, int64_t chunk_rows) {
  return sum_rows<F>(M, chunk_rows, 0, [&](int64_t m, F*) -> double {
    const F* x = logits + m * V;
    F* d = d_logits ? d_logits + m * V : nullptr;
    const int32_t t = targets[m];
    if (t < 0) {
      if (d) std::fill_n(d, V, F(0));
      if (losses) losses[m] = F(0);
      return 0.0;
    }
    CHECK(t < V, "target {} outside vocabulary {} at row {}", t, V, m);
    const F mx = row_max(x, V);
    const double xt = x[t];  // read before d (which may alias x) is written
    double sum = 0;
    if (d)
      for (int64_t v = 0; v < V; v++) sum += (d[v] = std::exp(x[v] - mx));
    else
      for (int64_t v = 0; v < V; v++) sum += std::exp(x[v] - mx);
    const double loss = double(mx) + std::log(sum) - xt;
    if (losses) losses[m] = F(loss);
    if (d) {
      const F s = F(grad_scale / sum);
      for (int64_t v = 0; v < V; v++) d[v] *= s;
      d[t] -= F(grad_scale);
    }
    return loss;
  });
}

// KL = Σ_v p_T·((t_v - lse_T) - (s_v - lse_S)), the log-ratio formed in double
// from the logits (exact to rounding even where p_T ≈ p_S, where a difference
// of logs of rounded probabilities would not be). Terms with p_T = 0 are 0.
// Scratch: the two rows of exponentials, so each exp is evaluated once.
template <typename F>
double kl_forward_backward_t(F* d_student, const F* student_logits, const F* teacher_logits,
                             int64_t M, int64_t V, double grad_scale, int64_t chunk_rows) {
  return sum_rows<F>(M, chunk_rows, size_t(2 * V), [&](int64_t m, F* scratch) -> double {
    const F* s = student_logits + m * V;
    const F* t = teacher_logits + m * V;
    F *eS = scratch, *eT = scratch + V;
    const F mxS = row_max(s, V), mxT = row_max(t, V);
    double sumS = 0, sumT = 0;
    for (int64_t v = 0; v < V; v++) {
      sumS += (eS[v] = std::exp(s[v] - mxS));
      sumT += (eT[v] = std::exp(t[v] - mxT));
    }
    const double lseS = mxS + std::log(sumS), lseT = mxT + std::log(sumT);
    const double invS = 1.0 / sumS, invT = 1.0 / sumT;
    F* d = d_student ? d_student + m * V : nullptr;
    double kl = 0;
    for (int64_t v = 0; v < V; v++) {
      const double pT = eT[v] * invT;
      if (pT > 0) kl += pT * ((double(t[v]) - lseT) - (double(s[v]) - lseS));
      if (d) d[v] = F(grad_scale * (eS[v] * invS - pT));  // s[v] already read: alias-safe
    }
    return kl;
  });
}

// loss = ‖y_S - y_T‖/√C;  d = grad_scale·(y_S - y_T)/(max(‖·‖, eps)·√C).
template <typename F>
double align_l2_forward_backward_t(F* d_student, const F* y_student, const F* y_teacher,
                                   int64_t M, int64_t C, double grad_scale, int64_t chunk_rows) {
  const double inv_sqrt_c = 1.0 / std::sqrt(double(C));
  return sum_rows<F>(M, chunk_rows, 0, [&](int64_t m, F*) -> double {
    const F* ys = y_student + m * C;
    const F* yt = y_teacher + m * C;
    double ss = 0;
    for (int64_t c = 0; c < C; c++) {
      const double diff = double(ys[c]) - double(yt[c]);
      ss += diff * diff;
    }
    const double norm = std::sqrt(ss);
    if (d_student) {
      F* d = d_student + m * C;
      const double k = grad_scale * inv_sqrt_c / std::max(norm, kAlignL2Eps);
      for (int64_t c = 0; c < C; c++) d[c] = F(k * (double(ys[c]) - double(yt[c])));
    }
    return norm * inv_sqrt_c;
  });
}

#define RADLADS_INSTANTIATE(F)                                                                   \
  template double cross_entropy_forward_backward_t<F>(F*, F*, const F*, const int32_t*, int64_t, \
                                                      int64_t, double, int64_t);                 \
  template double kl_forward_backward_t<F>(F*, const F*, const F*, int64_t, int64_t, double,     \
                                           int64_t);                                             \
  template double align_l2_forward_backward_t<F>(F*, const F*, const F*, int64_t, int64_t,       \
                                                 double, int64_t);
RADLADS_INSTANTIATE(float)
RADLADS_INSTANTIATE(double)
#undef RADLADS_INSTANTIATE

double cross_entropy_forward_backward(float* d_logits, float* losses, const float* logits,
                                      const int32_t* targets, int64_t M, int64_t V,
                                      float grad_scale, int64_t chunk_rows) {
  return cross_entropy_forward_backward_t<float>(d_logits, losses, logits, targets, M, V,
                                                 grad_scale, chunk_rows);
}

double kl_forward_backward(float* d_student, const float* student_logits,
                           const float* teacher_logits, int64_t M, int64_t V, float grad_scale,
                           int64_t chunk_rows) {
  return kl_forward_backward_t<float>(d_student, student_logits, teacher_logits, M, V, grad_scale,
                                      chunk_rows);
}

double align_l2_forward_backward(float* d_student, const float* y_student, const float* y_teacher,
                                 int64_t M, int64_t C, float grad_scale, int64_t chunk_rows) {
  return align_l2_forward_backward_t<float>(d_student, y_student, y_teacher, M, C, grad_scale,
                                            chunk_rows);
}

}  // namespace radlads
