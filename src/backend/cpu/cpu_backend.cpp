// The CPU backend: each method is the op of the same name in this folder.
#include "backend/cpu/cpu_backend.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

#include "backend/cpu/activations.h"
#include "backend/cpu/attention.h"
#include "backend/cpu/blas.h"
#include "backend/cpu/elementwise.h"
#include "backend/cpu/embedding.h"
#include "backend/cpu/gqa.h"
#include "backend/cpu/group_norm.h"
#include "backend/cpu/l2norm.h"
#include "backend/cpu/lora.h"
#include "backend/cpu/losses.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/frozen_weights.h"
#include "backend/cpu/matmul_bf16.h"
#include "backend/cpu/rmsnorm.h"
#include "backend/cpu/rope.h"
#include "backend/cpu/swiglu.h"
#include "backend/cpu/vector_kernels.h"
#include "backend/cpu/wkv6.h"
#include "backend/cpu/wkv7.h"
#include "core/error.h"

namespace radlads {

// Each block carries a 64-byte header saying how it was made. Blocks of
// 256 KiB and more are mapped directly: freeing them returns the pages to the
// system at once, where glibc would keep a freed heap block resident and
// count it again when the workspace allocates its merged block.
namespace {
constexpr size_t kHeader = 64;
constexpr size_t kMapAtLeast = size_t(256) << 10;
struct BlockHeader {
  size_t mapped_bytes;  // 0: from aligned_alloc
};
}  // namespace

void* CpuBackend::alloc(size_t bytes) const {
  const size_t total = kHeader + (bytes + 63) / 64 * 64;
  char* base = nullptr;
  size_t mapped = 0;
  if (total >= kMapAtLeast) {
    void* m = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) base = static_cast<char*>(m), mapped = total;
  } else {
    base = static_cast<char*>(std::aligned_alloc(64, total));
  }
  if (!base) fail("out of memory allocating {} bytes", bytes);
  reinterpret_cast<BlockHeader*>(base)->mapped_bytes = mapped;
  return base + kHeader;
}
void CpuBackend::free(void* p) const {
  if (!p) return;
  char* base = static_cast<char*>(p) - kHeader;
  const size_t mapped = reinterpret_cast<const BlockHeader*>(base)->mapped_bytes;
  if (mapped)
    munmap(base, mapped);
  else
    std::free(base);
}
void CpuBackend::copy(void* dst, const void* src, size_t bytes) const {
  if (bytes) std::memcpy(dst, src, bytes);
}
void CpuBackend::fill(float* x, float value, int64_t n) const { radlads::fill(x, value, n); }

void CpuBackend::gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                      int ldb, float beta, float* c, int ldc) const {
  sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void CpuBackend::gemm_strided_batched(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
                                      int64_t sa, const float* b, int ldb, int64_t sb, float beta, float* c, int ldc,
                                      int64_t sc, int count) const {
  // Each GEMM already fills the thread pool at the sizes we batch (the
  // RAD-RWKV6 token-shift LoRA: 5 × (M, C, R)).
  for (int i = 0; i < count; i++) sgemm(ta, tb, m, n, k, alpha, a + i * sa, lda, b + i * sb, ldb, beta, c + i * sc, ldc);
}
void CpuBackend::matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int64_t M,
                                int64_t C, int64_t OC) const {
  radlads::matmul_forward(out, inp, weight, bias, M, C, OC);
}
void CpuBackend::matmul_backward(float* d_inp, float* d_weight, float* d_bias, const float* d_out, const float* inp,
                                 const float* weight, int64_t M, int64_t C, int64_t OC) const {
  radlads::matmul_backward(d_inp, d_weight, d_bias, d_out, inp, weight, M, C, OC);
}
void CpuBackend::lora_matmul_forward(float* out, const float* inp, const float* weight, int64_t M, int64_t C,
                                     int64_t OC, bool accumulate) const {
  radlads::lora_matmul_forward(out, inp, weight, M, C, OC, accumulate);
}
void CpuBackend::lora_matmul_backward(float* d_inp, float* d_weight, const float* d_out, const float* inp,
                                      const float* weight, int64_t M, int64_t C, int64_t OC,
                                      bool accumulate_inp) const {
  radlads::lora_matmul_backward(d_inp, d_weight, d_out, inp, weight, M, C, OC, accumulate_inp);
}

void CpuBackend::add_inplace(float* x, const float* y, int64_t n) const { radlads::add_inplace(x, y, n); }
void CpuBackend::scale_inplace(float* x, float s, int64_t n) const { radlads::scale_inplace(x, s, n); }
void CpuBackend::mul(float* out, const float* a, const float* b, int64_t n) const { radlads::mul(out, a, b, n); }
void CpuBackend::mul_backward(float* d_a, float* d_b, const float* d_out, const float* a, const float* b,
                              int64_t n) const {
  radlads::mul_backward(d_a, d_b, d_out, a, b, n);
}
void CpuBackend::add_colsum(float* out, const float* d, int64_t M, int64_t n) const {
  radlads::add_colsum(out, d, M, n);
}
void CpuBackend::tanh_forward(float* out, const float* inp, int64_t n) const { radlads::tanh_forward(out, inp, n); }
void CpuBackend::tanh_backward(float* d_inp, const float* d_out, const float* out, int64_t n) const {
  radlads::tanh_backward(d_inp, d_out, out, n);
}
void CpuBackend::sigmoid_forward(float* out, const float* inp, int64_t n) const {
  radlads::sigmoid_forward(out, inp, n);
}
void CpuBackend::sigmoid_backward(float* d_inp, const float* d_out, const float* out, int64_t n) const {
  radlads::sigmoid_backward(d_inp, d_out, out, n);
}
void CpuBackend::swiglu_forward(float* out, const float* gate, const float* up, int64_t n) const {
  radlads::swiglu_forward(out, gate, up, n);
}
void CpuBackend::swiglu_backward(float* d_gate, float* d_up, const float* d_out, const float* gate, const float* up,
                                 int64_t n) const {
  radlads::swiglu_backward(d_gate, d_up, d_out, gate, up, n);
}

void CpuBackend::rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int64_t M,
                                 int64_t C, float eps) const {
  radlads::rmsnorm_forward(out, rstd, inp, weight, M, C, eps);
}
void CpuBackend::rmsnorm_backward(float* d_inp, float* d_weight, const float* d_out, const float* inp,
                                  const float* weight, const float* rstd, int64_t M, int64_t C) const {
  radlads::rmsnorm_backward(d_inp, d_weight, d_out, inp, weight, rstd, M, C);
}
void CpuBackend::group_norm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                                    const float* bias, int64_t M, int H, int N, float eps) const {
  radlads::group_norm_forward(out, mean, rstd, inp, weight, bias, M, H, N, eps);
}
void CpuBackend::group_norm_backward(float* d_inp, float* d_weight, float* d_bias, const float* d_out,
                                     const float* inp, const float* weight, const float* mean, const float* rstd,
                                     int64_t M, int H, int N) const {
  radlads::group_norm_backward(d_inp, d_weight, d_bias, d_out, inp, weight, mean, rstd, M, H, N);
}
void CpuBackend::l2norm_forward(float* out, const float* inp, int64_t M, int H, int N) const {
  radlads::l2norm_forward(out, inp, M, H, N);
}
void CpuBackend::l2norm_backward(float* d_inp, const float* d_out, const float* inp, int64_t M, int H,
                                 int N) const {
  radlads::l2norm_backward(d_inp, d_out, inp, M, H, N);
}
void CpuBackend::rope_forward(float* x, const int32_t* pos, int64_t M, int nh, const RopeTable& table) const {
  radlads::rope_forward(x, pos, M, nh, table);
}
void CpuBackend::rope_backward(float* d_x, const int32_t* pos, int64_t M, int nh, const RopeTable& table) const {
  radlads::rope_backward(d_x, pos, M, nh, table);
}
void CpuBackend::gqa_expand(float* out, const float* inp, int64_t M, int H, int KVH, int N) const {
  radlads::gqa_expand(out, inp, M, H, KVH, N);
}
void CpuBackend::gqa_reduce(float* d_inp, const float* d_out, int64_t M, int H, int KVH, int N) const {
  radlads::gqa_reduce(d_inp, d_out, M, H, KVH, N);
}
void CpuBackend::embedding_forward(float* out, const float* table, const int32_t* tokens, int64_t M, int64_t C,
                                   int64_t V) const {
  for (int64_t i = 0; i < M; i++)  // the op itself trusts its ids
    if (tokens[i] < 0 || tokens[i] >= V) fail("token id {} is outside the vocabulary (0..{})", tokens[i], V - 1);
  radlads::embedding_forward(out, table, tokens, M, C);
}
void CpuBackend::embedding_backward(float* d_table, const float* d_out, const int32_t* tokens, int64_t M,
                                    int64_t C) const {
  radlads::embedding_backward(d_table, d_out, tokens, M, C);
}

void CpuBackend::attention_forward(float* out, const float* q, const float* k, const float* v, int Tq, int Tk, int H,
                                   int KVH, int N, int64_t kv_stride) const {
  radlads::attention_forward(out, q, k, v, Tq, Tk, H, KVH, N, kv_stride);
}
void CpuBackend::attention_backward(float* d_q, float* d_k, float* d_v, const float* d_out, const float* q,
                                    const float* k, const float* v, int T, int H, int KVH, int N) const {
  radlads::attention_backward(d_q, d_k, d_v, d_out, q, k, v, T, H, KVH, N);
}
void CpuBackend::wkv6_forward(float* out, float* state, const float* r, const float* k, const float* v,
                              const float* logw, int B, int T, int H, int N, float scale) const {
  radlads::wkv6_forward(out, state, r, k, v, logw, B, T, H, N, scale);
}
void CpuBackend::wkv6_backward(float* d_r, float* d_k, float* d_v, float* d_logw, float* d_state0,
                               const float* d_out, const float* d_state_final, const float* r, const float* k,
                               const float* v, const float* logw, const float* state0, int B, int T, int H, int N,
                               float scale) const {
  radlads::wkv6_backward(d_r, d_k, d_v, d_logw, d_state0, d_out, d_state_final, r, k, v, logw, state0, B, T, H, N,
                         scale);
}
void CpuBackend::wkv7_forward(float* out, float* state, const float* r, const float* w, const float* k,
                              const float* v, const float* a, const float* b, int B, int T, int H, int N,
                              float scale) const {
  radlads::wkv7_forward(out, state, r, w, k, v, a, b, B, T, H, N, scale);
}
void CpuBackend::wkv7_backward(float* d_r, float* d_w, float* d_k, float* d_v, float* d_a, float* d_b,
                               float* d_state0, const float* d_out, const float* d_state_final, const float* r,
                               const float* w, const float* k, const float* v, const float* a, const float* b,
                               const float* state0, int B, int T, int H, int N, float scale) const {
  radlads::wkv7_backward(d_r, d_w, d_k, d_v, d_a, d_b, d_state0, d_out, d_state_final, r, w, k, v, a, b, state0, B,
                         T, H, N, scale);
}

double CpuBackend::cross_entropy(float* d_logits, float* losses, const float* logits, const int32_t* targets,
                                 int64_t M, int64_t V, float grad_scale) const {
  return cross_entropy_forward_backward(d_logits, losses, logits, targets, M, V, grad_scale);
}
double CpuBackend::kl_divergence(float* d_student, const float* student_logits, const float* teacher_logits,
                                 int64_t M, int64_t V, float grad_scale) const {
  return kl_forward_backward(d_student, student_logits, teacher_logits, M, V, grad_scale);
}
double CpuBackend::align_l2(float* d_student, const float* y_student, const float* y_teacher, int64_t M, int64_t C,
                            float grad_scale) const {
  return align_l2_forward_backward(d_student, y_student, y_teacher, M, C, grad_scale);
}

void CpuBackend::adamw_update(float* w, float* m, float* v, const float* g, int64_t n, const AdamWStep& s) const {
  radlads::adamw_update(w, m, v, g, n, s);
}
void CpuBackend::sum_squares_blocks(const float* x, int64_t n, double* part) const {
  radlads::sum_squares_blocks(x, n, kSumSquaresBlock, part);
}

bool CpuBackend::has_bf16_gemm() const { return bf16_gemm_available(); }
std::unique_ptr<Backend::FrozenWeights> CpuBackend::frozen_weights(WeightFormat f, bool pack_on_first_use) const {
  return make_cpu_frozen_weights(f, pack_on_first_use);
}

const Backend& cpu_backend() {
  static const CpuBackend be;
  return be;
}

}  // namespace radlads
