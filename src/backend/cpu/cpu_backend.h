// The CPU backend: the ops of this folder behind the Backend interface
// (backend/backend.h). Float GEMMs go through oneDNN (blas.h), threads are
// the OpenMP pool the ExecContext binds, memory is host memory.
#pragma once

#include "backend/backend.h"

namespace radlads {

class CpuBackend : public Backend {
 public:
  const char* name() const override { return "cpu"; }
  Device device() const override { return Device::Cpu; }

  void* alloc(size_t bytes) const override;
  void free(void* p) const override;
  void copy(void* dst, const void* src, size_t bytes) const override;
  void to_device(void* dst, const void* src, size_t bytes) const override { copy(dst, src, bytes); }
  void to_host(void* dst, const void* src, size_t bytes) const override { copy(dst, src, bytes); }
  void fill(float* x, float value, int64_t n) const override;

  void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
            int ldb, float beta, float* c, int ldc) const override;
  void gemm_strided_batched(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                            int64_t stride_a, const float* b, int ldb, int64_t stride_b, float beta, float* c,
                            int ldc, int64_t stride_c, int count) const override;
  void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int64_t M, int64_t C,
                      int64_t OC) const override;
  void matmul_backward(float* d_inp, float* d_weight, float* d_bias, const float* d_out, const float* inp,
                       const float* weight, int64_t M, int64_t C, int64_t OC) const override;
  void lora_matmul_forward(float* out, const float* inp, const float* weight, int64_t M, int64_t C, int64_t OC,
                           bool accumulate) const override;
  void lora_matmul_backward(float* d_inp, float* d_weight, const float* d_out, const float* inp,
                            const float* weight, int64_t M, int64_t C, int64_t OC,
                            bool accumulate_inp) const override;

  void add_inplace(float* x, const float* y, int64_t n) const override;
  void scale_inplace(float* x, float s, int64_t n) const override;
  void mul(float* out, const float* a, const float* b, int64_t n) const override;
  void mul_backward(float* d_a, float* d_b, const float* d_out, const float* a, const float* b,
                    int64_t n) const override;
  void add_colsum(float* out, const float* d, int64_t M, int64_t n) const override;
  void tanh_forward(float* out, const float* inp, int64_t n) const override;
  void tanh_backward(float* d_inp, const float* d_out, const float* out, int64_t n) const override;
  void sigmoid_forward(float* out, const float* inp, int64_t n) const override;
  void sigmoid_backward(float* d_inp, const float* d_out, const float* out, int64_t n) const override;
  void swiglu_forward(float* out, const float* gate, const float* up, int64_t n) const override;
  void swiglu_backward(float* d_gate, float* d_up, const float* d_out, const float* gate, const float* up,
                       int64_t n) const override;

  void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int64_t M, int64_t C,
                       float eps) const override;
  void rmsnorm_backward(float* d_inp, float* d_weight, const float* d_out, const float* inp, const float* weight,
                        const float* rstd, int64_t M, int64_t C) const override;
  void group_norm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                          const float* bias, int64_t M, int H, int N, float eps) const override;
  void group_norm_backward(float* d_inp, float* d_weight, float* d_bias, const float* d_out, const float* inp,
                           const float* weight, const float* mean, const float* rstd, int64_t M, int H,
                           int N) const override;
  void l2norm_forward(float* out, const float* inp, int64_t M, int H, int N) const override;
  void l2norm_backward(float* d_inp, const float* d_out, const float* inp, int64_t M, int H, int N) const override;
  void rope_forward(float* x, const int32_t* pos, int64_t M, int nh, const RopeTable& table) const override;
  void rope_backward(float* d_x, const int32_t* pos, int64_t M, int nh, const RopeTable& table) const override;
  void gqa_expand(float* out, const float* inp, int64_t M, int H, int KVH, int N) const override;
  void gqa_reduce(float* d_inp, const float* d_out, int64_t M, int H, int KVH, int N) const override;
  void embedding_forward(float* out, const float* table, const int32_t* tokens, int64_t M, int64_t C,
                         int64_t V) const override;
  void embedding_backward(float* d_table, const float* d_out, const int32_t* tokens, int64_t M,
                          int64_t C) const override;

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

  double cross_entropy(float* d_logits, float* losses, const float* logits, const int32_t* targets, int64_t M,
                       int64_t V, float grad_scale) const override;
  double kl_divergence(float* d_student, const float* student_logits, const float* teacher_logits, int64_t M,
                       int64_t V, float grad_scale) const override;
  double align_l2(float* d_student, const float* y_student, const float* y_teacher, int64_t M, int64_t C,
                  float grad_scale) const override;

  void adamw_update(float* w, float* m, float* v, const float* g, int64_t n, const AdamWStep& s) const override;
  void sum_squares_blocks(const float* x, int64_t n, double* part) const override;

  bool has_bf16_gemm() const override;
  std::unique_ptr<FrozenWeights> frozen_weights(WeightFormat f, bool pack_on_first_use) const override;
};

}  // namespace radlads
