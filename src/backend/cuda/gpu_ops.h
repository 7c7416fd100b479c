// The GPU backend: every Backend op (backend/backend.h) as kernel launches
// (kernels_*.h) and GEMMs, written once against a runtime RT that owns the
// memory, the GEMMs and the launches:
//   - CudaRuntime (cuda_runtime.cuh): cudaMallocAsync, cuBLAS, <<<>>> on one
//     stream: the "cuda" backend (cuda_backend.cu, built when nvcc is found);
//   - HostRuntime (tests/backend/gpu_sim/): host memory, the CPU sgemm, and
//     every kernel run on std::threads with block barriers, so that this file
//     and the kernels are tested against the CPU backend on any machine.
// RT provides: alloc/free (device bytes), copy (device to device), to_host,
// to_device, gemm / gemm_strided_batched (row-major, BLAS form), gemm_bf16,
// has_bf16, launch<Fn>(grid, block, smem bytes, args...), and kRowBlock (the
// threads of a row-reduction block).
//
// Pointers are device pointers, as the interface says, except the RopeTable
// (host; mirrored here per table) and sum_squares_blocks' part (host: the
// caller adds the parts). Scalars a loss returns come back through one copy.
#pragma once

#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/kernels_attention.h"
#include "backend/cuda/kernels_elementwise.h"
#include "backend/cuda/kernels_losses.h"
#include "backend/cuda/kernels_norms.h"
#include "backend/cuda/kernels_tokens.h"
#include "backend/cuda/kernels_wkv6.h"
#include "backend/cuda/kernels_wkv7.h"
#include "backend/rope_table.h"
#include "backend/cpu/losses.h"  // kAlignL2Eps (a constant, no CPU code)
#include "backend/cuda/gpu_error.h"

namespace radlads::gpu {

template <class RT>
class GpuOps : public Backend {
 public:
  explicit GpuOps(RT rt = RT()) : rt_(std::move(rt)) {}
  ~GpuOps() override {  // (at exit the runtime may be going: nothing may throw here)
    for (auto& [key, t] : rope_) try {
        rt_.free(t.data);
      } catch (...) {
      }
  }
  const RT& runtime() const { return rt_; }
  const char* name() const override { return RT::kName; }
  Device device() const override { return Device::Cuda; }

  // ---- memory ----
  void* alloc(size_t bytes) const override { return rt_.alloc(bytes); }
  void free(void* p) const override { rt_.free(p); }
  void copy(void* dst, const void* src, size_t bytes) const override {
    if (bytes) rt_.copy(dst, src, bytes);
  }
  void to_device(void* dst, const void* src, size_t bytes) const override {
    if (bytes) rt_.to_device(dst, src, bytes);
  }
  void to_host(void* dst, const void* src, size_t bytes) const override {
    if (bytes) rt_.to_host(dst, src, bytes);
  }
  void fill(float* x, float value, int64_t n) const override { run<Fill>(n, x, value, n); }

  // ---- GEMM ----
  void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
            float beta, float* c, int ldc) const override {
    rt_.gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  void gemm_strided_batched(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, int64_t sa,
                            const float* b, int ldb, int64_t sb, float beta, float* c, int ldc, int64_t sc,
                            int count) const override {
    rt_.gemm_strided_batched(ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, count);
  }
  void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int64_t M, int64_t C,
                      int64_t OC) const override {
    rt_.gemm(false, true, int(M), int(OC), int(C), 1.0f, inp, int(C), weight, int(C), 0.0f, out, int(OC));
    if (bias) run<AddRowBias>(M * OC, out, bias, M, OC);
  }
  void matmul_backward(float* d_inp, float* d_weight, float* d_bias, const float* d_out, const float* inp,
                       const float* weight, int64_t M, int64_t C, int64_t OC) const override {
    if (d_weight)
      rt_.gemm(true, false, int(OC), int(C), int(M), 1.0f, d_out, int(OC), inp, int(C), 1.0f, d_weight, int(C));
    if (d_bias) colsum(d_bias, PlainElem{d_out, OC}, M, OC);
    if (d_inp)
      rt_.gemm(false, false, int(M), int(C), int(OC), 1.0f, d_out, int(OC), weight, int(C), 0.0f, d_inp, int(C));
  }
  void lora_matmul_forward(float* out, const float* inp, const float* weight, int64_t M, int64_t C, int64_t OC,
                           bool accumulate) const override {
    rt_.gemm(false, false, int(M), int(OC), int(C), 1.0f, inp, int(C), weight, int(OC), accumulate ? 1.0f : 0.0f,
             out, int(OC));
  }
  void lora_matmul_backward(float* d_inp, float* d_weight, const float* d_out, const float* inp, const float* weight,
                            int64_t M, int64_t C, int64_t OC, bool accumulate_inp) const override {
    if (d_weight)
      rt_.gemm(true, false, int(C), int(OC), int(M), 1.0f, inp, int(C), d_out, int(OC), 1.0f, d_weight, int(OC));
    if (d_inp)
      rt_.gemm(false, true, int(M), int(C), int(OC), 1.0f, d_out, int(OC), weight, int(OC),
               accumulate_inp ? 1.0f : 0.0f, d_inp, int(C));
  }

  // ---- element-wise ----
  void add_inplace(float* x, const float* y, int64_t n) const override { run<AddInplace>(n, x, y, n); }
  void scale_inplace(float* x, float s, int64_t n) const override { run<ScaleInplace>(n, x, s, n); }
  void mul(float* out, const float* a, const float* b, int64_t n) const override { run<Mul>(n, out, a, b, n); }
  void mul_backward(float* d_a, float* d_b, const float* d_out, const float* a, const float* b,
                    int64_t n) const override {
    run<MulBackward>(n, d_a, d_b, d_out, a, b, n);
  }
  void add_colsum(float* out, const float* d, int64_t M, int64_t n) const override {
    if (out) colsum(out, PlainElem{d, n}, M, n);
  }
  void tanh_forward(float* out, const float* inp, int64_t n) const override { run<TanhForward>(n, out, inp, n); }
  void tanh_backward(float* d_inp, const float* d_out, const float* out, int64_t n) const override {
    run<TanhBackward>(n, d_inp, d_out, out, n);
  }
  void sigmoid_forward(float* out, const float* inp, int64_t n) const override {
    run<SigmoidForward>(n, out, inp, n);
  }
  void sigmoid_backward(float* d_inp, const float* d_out, const float* out, int64_t n) const override {
    run<SigmoidBackward>(n, d_inp, d_out, out, n);
  }
  void swiglu_forward(float* out, const float* gate, const float* up, int64_t n) const override {
    run<SwigluForward>(n, out, gate, up, n);
  }
  void swiglu_backward(float* d_gate, float* d_up, const float* d_out, const float* gate, const float* up,
                       int64_t n) const override {
    run<SwigluBackward>(n, d_gate, d_up, d_out, gate, up, n);
  }

  // ---- norms, positions, heads ----
  void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int64_t M, int64_t C,
                       float eps) const override {
    if (M > 0) rt_.template launch<RmsnormForward>(int(M), row_block(), row_block() * 8, out, rstd, inp, weight, C, eps);
  }
  void rmsnorm_backward(float* d_inp, float* d_weight, const float* d_out, const float* inp, const float* weight,
                        const float* rstd, int64_t M, int64_t C) const override {
    if (M <= 0) return;
    if (d_weight) colsum(d_weight, RmsnormWeightElem{d_out, inp, rstd, C}, M, C);  // first: d_inp may alias d_out
    rt_.template launch<RmsnormBackward>(int(M), row_block(), row_block() * 8, d_inp, d_out, inp, weight, rstd, C);
  }
  void group_norm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                          const float* bias, int64_t M, int H, int N, float eps) const override {
    run<GroupNormForward>(M * H, out, mean, rstd, inp, weight, bias, M * H, H, N, eps);
  }
  void group_norm_backward(float* d_inp, float* d_weight, float* d_bias, const float* d_out, const float* inp,
                           const float* weight, const float* mean, const float* rstd, int64_t M, int H,
                           int N) const override {
    const int64_t C = int64_t(H) * N;
    if (d_weight) colsum(d_weight, GroupNormWeightElem{d_out, inp, mean, rstd, H, N}, M, C);
    if (d_bias) colsum(d_bias, PlainElem{d_out, C}, M, C);
    run<GroupNormBackward>(M * H, d_inp, d_out, inp, weight, mean, rstd, M * H, H, N);
  }
  void l2norm_forward(float* out, const float* inp, int64_t M, int H, int N) const override {
    run<L2normForward>(M * H, out, inp, M * H, N, 1e-12);
  }
  void l2norm_backward(float* d_inp, const float* d_out, const float* inp, int64_t M, int H, int N) const override {
    run<L2normBackward>(M * H, d_inp, d_out, inp, M * H, N, 1e-12);
  }
  void rope_forward(float* x, const int32_t* pos, int64_t M, int nh, const RopeTable& table) const override {
    rope(x, pos, M, nh, table, 1.0f);
  }
  void rope_backward(float* d_x, const int32_t* pos, int64_t M, int nh, const RopeTable& table) const override {
    rope(d_x, pos, M, nh, table, -1.0f);
  }
  void gqa_expand(float* out, const float* inp, int64_t M, int H, int KVH, int N) const override {
    run<GqaExpand>(M * H * N, out, inp, M, H, KVH, N);
  }
  void gqa_reduce(float* d_inp, const float* d_out, int64_t M, int H, int KVH, int N) const override {
    run<GqaReduce>(M * KVH * N, d_inp, d_out, M, H, KVH, N);
  }
  void embedding_forward(float* out, const float* table, const int32_t* tokens, int64_t M, int64_t C,
                         int64_t V) const override {
    Scratch<float> bad(rt_, 1);
    fill(bad.p, 0.0f, 1);
    run<EmbeddingForward>(M * C, out, bad.p, table, tokens, M, C, V);
    float n_bad = 0;
    rt_.to_host(&n_bad, bad.p, sizeof n_bad);
    if (n_bad > 0) gpu_fail(int64_t(n_bad), " token id(s) outside the vocabulary (0..", V - 1, ")");
  }
  void embedding_backward(float* d_table, const float* d_out, const int32_t* tokens, int64_t M,
                          int64_t C) const override {
    run<EmbeddingBackward>(M * C, d_table, d_out, tokens, M, C);
  }

  // ---- attention and the recurrences (gpu_ops_sequence.h) ----
  void attention_forward(float* out, const float* q, const float* k, const float* v, int Tq, int Tk, int H, int KVH,
                         int N, int64_t kv_stride) const override;
  void attention_backward(float* d_q, float* d_k, float* d_v, const float* d_out, const float* q, const float* k,
                          const float* v, int T, int H, int KVH, int N) const override;
  void wkv6_forward(float* out, float* state, const float* r, const float* k, const float* v, const float* logw,
                    int B, int T, int H, int N, float scale) const override;
  void wkv6_backward(float* d_r, float* d_k, float* d_v, float* d_logw, float* d_state0, const float* d_out,
                     const float* d_state_final, const float* r, const float* k, const float* v, const float* logw,
                     const float* state0, int B, int T, int H, int N, float scale) const override;
  void wkv7_forward(float* out, float* state, const float* r, const float* w, const float* k, const float* v,
                    const float* a, const float* b, int B, int T, int H, int N, float scale) const override;
  void wkv7_backward(float* d_r, float* d_w, float* d_k, float* d_v, float* d_a, float* d_b, float* d_state0,
                     const float* d_out, const float* d_state_final, const float* r, const float* w, const float* k,
                     const float* v, const float* a, const float* b, const float* state0, int B, int T, int H,
                     int N, float scale) const override;

  // ---- losses ----
  double cross_entropy(float* d_logits, float* losses, const float* logits, const int32_t* targets, int64_t M,
                       int64_t V, float grad_scale) const override {
    Scratch<double> rows(rt_, M);
    if (M > 0)
      rt_.template launch<CrossEntropy>(int(M), row_block(), row_block() * 8, d_logits, losses, rows.p, logits, targets,
                                        V, grad_scale);
    return sum_rows(rows.p, M);
  }
  double kl_divergence(float* d_student, const float* student_logits, const float* teacher_logits, int64_t M,
                       int64_t V, float grad_scale) const override {
    Scratch<double> rows(rt_, M);
    if (M > 0)
      rt_.template launch<KlDivergence>(int(M), row_block(), row_block() * 8, d_student, rows.p, student_logits,
                                        teacher_logits, V, grad_scale);
    return sum_rows(rows.p, M);
  }
  double align_l2(float* d_student, const float* y_student, const float* y_teacher, int64_t M, int64_t C,
                  float grad_scale) const override {
    Scratch<double> rows(rt_, M);
    if (M > 0)
      rt_.template launch<AlignL2>(int(M), row_block(), row_block() * 8, d_student, rows.p, y_student, y_teacher, C,
                                   grad_scale, kAlignL2Eps);
    return sum_rows(rows.p, M);
  }

  // ---- optimiser ----
  void adamw_update(float* w, float* m, float* v, const float* g, int64_t n, const AdamWStep& s) const override {
    run<AdamW>(n, w, m, v, g, n, s);
  }
  void sum_squares_blocks(const float* x, int64_t n, double* part) const override {
    const int64_t nb = (n + kSumSquaresBlock - 1) / kSumSquaresBlock;
    if (nb <= 0) return;
    Scratch<double> d(rt_, nb);
    rt_.template launch<SumSquaresBlocks>(int(nb), row_block(), row_block() * 8, d.p, x, n, kSumSquaresBlock);
    rt_.to_host(part, d.p, size_t(nb) * sizeof(double));
  }

  // ---- frozen weights (gpu_frozen.h) ----
  bool has_bf16_gemm() const override { return rt_.has_bf16(); }
  std::unique_ptr<FrozenWeights> frozen_weights(WeightFormat f, bool pack_on_first_use) const override;

 protected:
  // Device memory for the length of one op (stream-ordered on the GPU).
  template <class T>
  struct Scratch {
    const RT& rt;
    T* p;
    Scratch(const RT& rt, int64_t n) : rt(rt), p(static_cast<T*>(rt.alloc(size_t(n > 0 ? n : 1) * sizeof(T)))) {}
    ~Scratch() { rt.free(p); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
  };

  // Threads of a row-reduction block (the runtime's: the host emulation runs
  // fewer; the kernels read bdim()).
  static constexpr int row_block() { return RT::kRowBlock; }

  // An element-wise kernel over n elements.
  template <class Fn, class... A>
  void run(int64_t n, A... a) const {
    launch_elements<Fn>(rt_, n, a...);
  }
  template <class E>
  void colsum(float* out, E e, int64_t M, int64_t n) const {
    if (n > 0) rt_.template launch<ColSum<E>>(int((n + 31) / 32), 256, 256 * 8, out, e, M, n);
  }
  double sum_rows(const double* rows, int64_t M) const {
    if (M <= 0) return 0.0;
    std::vector<double> h(static_cast<size_t>(M));
    rt_.to_host(h.data(), rows, h.size() * sizeof(double));
    double s = 0;
    for (double x : h) s += x;  // row order: the same sum for any launch
    return s;
  }
  void rope(float* x, const int32_t* pos, int64_t M, int nh, const RopeTable& table, float sign) const {
    const int half = table.N / 2;
    const float* t = rope_table(table);
    run<RopeRotate>(M * nh * half, x, pos, t, t + int64_t(table.n_pos) * half, M, nh, table.N, sign);
  }
  // The table's cos then sin on the device, uploaded again when it grew.
  const float* rope_table(const RopeTable& table) const {
    std::lock_guard<std::mutex> lock(mu_);
    DeviceRope& d = rope_[&table];
    if (d.data && d.n_pos == table.n_pos && d.N == table.N && d.theta == table.theta) return d.data;
    if (d.data) rt_.free(d.data);
    const size_t n = table.cos.size();
    d.data = static_cast<float*>(rt_.alloc(2 * n * sizeof(float)));
    rt_.to_device(d.data, table.cos.data(), n * sizeof(float));
    rt_.to_device(d.data + n, table.sin.data(), n * sizeof(float));
    d.n_pos = table.n_pos, d.N = table.N, d.theta = table.theta;
    return d.data;
  }

  RT rt_;
  struct DeviceRope {
    float* data = nullptr;
    int n_pos = 0, N = 0;
    double theta = 0;
  };
  mutable std::mutex mu_;
  mutable std::unordered_map<const RopeTable*, DeviceRope> rope_;
};

}  // namespace radlads::gpu

#include "backend/cuda/gpu_frozen.h"
#include "backend/cuda/gpu_ops_sequence.h"
