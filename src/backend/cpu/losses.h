// Training losses with their gradients, fused: cross-entropy (step 3), forward
// KL to the teacher over the full vocabulary (step 2), and the unsquared L2
// hidden-state alignment (step 1). See DESIGN.md "The protocol".
//
// Rows are processed in chunks of chunk_rows (one parallel task each). Each
// row is reduced with double accumulators straight from the fp32 inputs, and
// the per-row losses are summed in row order at the end, so the result does not
// depend on chunk_rows or on the thread count, and no [M,V] copy in double is
// ever made (at most two fp32 rows of V per thread, for KL).
//
// Returned values are SUMS over rows; the caller divides (by counted tokens,
// or by rows·layers) and passes the matching grad_scale (e.g. 1/count) so that
// the gradient is that of the mean. Gradients are written (=), not accumulated.
#pragma once

#include <cstdint>

namespace radlads {

inline constexpr int64_t kLossChunkRows = 8;

// Σ_m -log softmax(logits[m])[targets[m]]. logits (M,V); targets (M), rows with
// a target < 0 are ignored (no loss, zero gradient). losses (M) per-row loss
// (0 for ignored rows) or nullptr. d_logits (M,V) = grad_scale·(softmax - onehot),
// or nullptr for the loss alone; it may alias logits (in place).
double cross_entropy_forward_backward(float* d_logits, float* losses, const float* logits,
                                      const int32_t* targets, int64_t M, int64_t V,
                                      float grad_scale, int64_t chunk_rows = kLossChunkRows);

// Σ_m KL(p_T ‖ p_S) = Σ_v p_T (log p_T - log p_S), p = softmax of the logits,
// no temperature. student_logits, teacher_logits (M,V). d_student (M,V) =
// grad_scale·(softmax(student) - p_T), or nullptr; it may alias student_logits.
double kl_forward_backward(float* d_student, const float* student_logits,
                           const float* teacher_logits, int64_t M, int64_t V, float grad_scale,
                           int64_t chunk_rows = kLossChunkRows);

// Σ_m ‖y_T - y_S‖₂ / √C (unsquared). y_student, y_teacher (M,C). d_student (M,C)
// = grad_scale·(y_S - y_T) / (max(‖y_T - y_S‖₂, kAlignL2Eps)·√C), or nullptr; it
// may alias y_student. The norm is not differentiable at 0; the eps makes the
// gradient there 0 (the subgradient torch's norm backward also returns) and
// keeps it finite and continuous below eps, never NaN.
inline constexpr double kAlignL2Eps = 1e-12;
double align_l2_forward_backward(float* d_student, const float* y_student, const float* y_teacher,
                                 int64_t M, int64_t C, float grad_scale,
                                 int64_t chunk_rows = kLossChunkRows);

// Scalar-generic bodies (float and double instantiated; double for FD tests).
template <typename F>
double cross_entropy_forward_backward_t(F* d_logits, F* losses, const F* logits,
                                        const int32_t* targets, int64_t M, int64_t V,
                                        double grad_scale, int64_t chunk_rows = kLossChunkRows);
template <typename F>
double kl_forward_backward_t(F* d_student, const F* student_logits, const F* teacher_logits,
                             int64_t M, int64_t V, double grad_scale,
                             int64_t chunk_rows = kLossChunkRows);
template <typename F>
double align_l2_forward_backward_t(F* d_student, const F* y_student, const F* y_teacher,
                                   int64_t M, int64_t C, double grad_scale,
                                   int64_t chunk_rows = kLossChunkRows);

}  // namespace radlads
