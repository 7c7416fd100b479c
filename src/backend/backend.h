// The compute backend: every op a model or an objective runs, on pointers into
// the backend's own memory (Device). Models, mixers and objectives hold a
// `const Backend&` (from the ExecContext) and call it; they never call BLAS,
// OpenMP or a kernel directly. Today's kernels are the CPU backend
// (backend/cpu/: oneDNN/OpenBLAS GEMM, OpenMP, AVX2/AVX-512 kernels, naive
// references beside them for tests). A CUDA backend is one more folder that
// implements this class (docs/ARCHITECTURE.md has the recipe).
//
// Conventions (backend/cpu/README.md): outputs first, then caches, then
// inputs, then dims; shapes in PyTorch order (M = B·T rows); parameter
// gradients accumulate (+=) and a null one is frozen (skipped); activation
// gradients are written (=). Everything is fp32: the double-precision bodies
// the finite-difference tests use stay in backend/cpu/ (`*_t` templates).
//
// Fused, architecture-specific stages (a mixer's token shift, decay, gates)
// are not here: each mixer keeps a kernel table in its folder
// (models/mixers/<name>/kernels.h) with a version per device, so that neither
// this interface nor a backend knows the architectures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/arena.h"
#include "core/tensor.h"
#include "io/ggml_types.h"

namespace radlads {

struct RopeTable;  // backend/rope_table.h: cos/sin per (position, pair), grown on demand

// How a frozen weight is held: fp32, halves, or ggml's quantized blocks (the
// row layouts of ggml-quants.c bit for bit: a row of C elements is C/32
// blocks of an fp16 scale and 32 codes).
enum class WeightFormat : uint8_t { F32, F16, BF16, Q8_0, Q4_0 };
const char* weight_format_name(WeightFormat f);            // "q8_0"
WeightFormat weight_format_from_name(const std::string& s);  // throws Error listing the names
int64_t weight_format_block(WeightFormat f);               // elements per block (32, or 1 for f32)
size_t weight_format_row_bytes(WeightFormat f, int64_t C);  // bytes of a row of C elements

// One AdamW update's scalars (train/adamw.h computes them per step).
struct AdamWStep {
  float b1, b2, eps, step_size, sqrt_bc2, decay;
};

class Backend : public DeviceMemory {  // (core/arena.h: arenas in its memory)
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;  // "cpu"
  virtual Device device() const = 0;

  // ---- memory (bytes, 64-byte aligned; contents of alloc undefined) ----
  virtual void* alloc(size_t bytes) const = 0;
  virtual void free(void* p) const = 0;
  virtual void copy(void* dst, const void* src, size_t bytes) const = 0;  // within this device
  virtual void to_device(void* dst, const void* host_src, size_t bytes) const = 0;  // from host memory
  virtual void to_host(void* host_dst, const void* src, size_t bytes) const = 0;    // to host memory
  virtual void fill(float* x, float value, int64_t n) const = 0;
  void zero(void* p, size_t bytes) const override;  // bytes a multiple of 4 (fill with 0.0f)

  // ---- GEMM ----
  // BLAS form on row-major data: C (m,n) = α·op(A)·op(B) + β·C.
  virtual void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                    const float* b, int ldb, float beta, float* c, int ldc) const = 0;
  // `count` independent GEMMs, the i-th at a + i·stride_a, b + i·stride_b, c + i·stride_c.
  virtual void gemm_strided_batched(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
                                    int lda, int64_t stride_a, const float* b, int ldb, int64_t stride_b, float beta,
                                    float* c, int ldc, int64_t stride_c, int count) const = 0;
  // Linear layer, HF weight layout [OC, C]: out (M,OC) = inp (M,C)·weightᵀ (+ bias).
  virtual void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int64_t M,
                              int64_t C, int64_t OC) const = 0;
  // d_inp (M,C) written (nullable); d_weight, d_bias accumulated (nullable: frozen).
  virtual void matmul_backward(float* d_inp, float* d_weight, float* d_bias, const float* d_out, const float* inp,
                               const float* weight, int64_t M, int64_t C, int64_t OC) const = 0;
  // LoRA factor, weight [C, OC] (the reference's layout): out (M,OC) (+)= inp·weight.
  virtual void lora_matmul_forward(float* out, const float* inp, const float* weight, int64_t M, int64_t C,
                                   int64_t OC, bool accumulate = false) const = 0;
  virtual void lora_matmul_backward(float* d_inp, float* d_weight, const float* d_out, const float* inp,
                                    const float* weight, int64_t M, int64_t C, int64_t OC,
                                    bool accumulate_inp = false) const = 0;

  // ---- element-wise ----
  virtual void add_inplace(float* x, const float* y, int64_t n) const = 0;  // x += y
  virtual void scale_inplace(float* x, float s, int64_t n) const = 0;       // x *= s
  virtual void mul(float* out, const float* a, const float* b, int64_t n) const = 0;  // out = a⊙b (may alias)
  // mul's backward: d_a = d_out⊙b, d_b = d_out⊙a (either may alias d_out).
  virtual void mul_backward(float* d_a, float* d_b, const float* d_out, const float* a, const float* b,
                            int64_t n) const = 0;
  // out (n) += Σ_rows d (M,n): the gradient of a per-channel parameter broadcast over rows (nullable out).
  virtual void add_colsum(float* out, const float* d, int64_t M, int64_t n) const = 0;
  virtual void tanh_forward(float* out, const float* inp, int64_t n) const = 0;
  virtual void tanh_backward(float* d_inp, const float* d_out, const float* out, int64_t n) const = 0;
  virtual void sigmoid_forward(float* out, const float* inp, int64_t n) const = 0;
  virtual void sigmoid_backward(float* d_inp, const float* d_out, const float* out, int64_t n) const = 0;
  virtual void swiglu_forward(float* out, const float* gate, const float* up, int64_t n) const = 0;
  virtual void swiglu_backward(float* d_gate, float* d_up, const float* d_out, const float* gate, const float* up,
                               int64_t n) const = 0;

  // ---- norms, positions, heads ----
  virtual void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int64_t M, int64_t C,
                               float eps) const = 0;
  virtual void rmsnorm_backward(float* d_inp, float* d_weight, const float* d_out, const float* inp,
                                const float* weight, const float* rstd, int64_t M, int64_t C) const = 0;
  virtual void group_norm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                                  const float* bias, int64_t M, int H, int N, float eps) const = 0;
  virtual void group_norm_backward(float* d_inp, float* d_weight, float* d_bias, const float* d_out,
                                   const float* inp, const float* weight, const float* mean, const float* rstd,
                                   int64_t M, int H, int N) const = 0;
  virtual void l2norm_forward(float* out, const float* inp, int64_t M, int H, int N) const = 0;
  virtual void l2norm_backward(float* d_inp, const float* d_out, const float* inp, int64_t M, int H,
                               int N) const = 0;
  virtual void rope_forward(float* x, const int32_t* pos, int64_t M, int nh, const RopeTable& table) const = 0;
  virtual void rope_backward(float* d_x, const int32_t* pos, int64_t M, int nh, const RopeTable& table) const = 0;
  // Grouped-query heads: (M,KVH,N) repeated to (M,H,N), and its gradient summed back.
  virtual void gqa_expand(float* out, const float* inp, int64_t M, int H, int KVH, int N) const = 0;
  virtual void gqa_reduce(float* d_inp, const float* d_out, int64_t M, int H, int KVH, int N) const = 0;
  // x (M,C) = table[tokens]; throws Error for an id outside 0..V−1.
  virtual void embedding_forward(float* out, const float* table, const int32_t* tokens, int64_t M, int64_t C,
                                 int64_t V) const = 0;
  virtual void embedding_backward(float* d_table, const float* d_out, const int32_t* tokens, int64_t M,
                                  int64_t C) const = 0;

  // ---- attention and the recurrences ----
  virtual void attention_forward(float* out, const float* q, const float* k, const float* v, int Tq, int Tk, int H,
                                 int KVH, int N, int64_t kv_stride) const = 0;
  virtual void attention_backward(float* d_q, float* d_k, float* d_v, const float* d_out, const float* q,
                                  const float* k, const float* v, int T, int H, int KVH, int N) const = 0;
  virtual void wkv6_forward(float* out, float* state, const float* r, const float* k, const float* v,
                            const float* logw, int B, int T, int H, int N, float scale) const = 0;
  virtual void wkv6_backward(float* d_r, float* d_k, float* d_v, float* d_logw, float* d_state0,
                             const float* d_out, const float* d_state_final, const float* r, const float* k,
                             const float* v, const float* logw, const float* state0, int B, int T, int H, int N,
                             float scale) const = 0;
  virtual void wkv7_forward(float* out, float* state, const float* r, const float* w, const float* k,
                            const float* v, const float* a, const float* b, int B, int T, int H, int N,
                            float scale) const = 0;
  virtual void wkv7_backward(float* d_r, float* d_w, float* d_k, float* d_v, float* d_a, float* d_b,
                             float* d_state0, const float* d_out, const float* d_state_final, const float* r,
                             const float* w, const float* k, const float* v, const float* a, const float* b,
                             const float* state0, int B, int T, int H, int N, float scale) const = 0;

  // ---- losses: sums over rows (double), gradients grad_scale·∂sum written (nullable) ----
  virtual double cross_entropy(float* d_logits, float* losses, const float* logits, const int32_t* targets,
                               int64_t M, int64_t V, float grad_scale) const = 0;
  // d_student may alias student_logits (in place).
  virtual double kl_divergence(float* d_student, const float* student_logits, const float* teacher_logits,
                               int64_t M, int64_t V, float grad_scale) const = 0;
  virtual double align_l2(float* d_student, const float* y_student, const float* y_teacher, int64_t M, int64_t C,
                          float grad_scale) const = 0;

  // ---- optimiser ----
  virtual void adamw_update(float* w, float* m, float* v, const float* g, int64_t n, const AdamWStep& s) const = 0;
  // part[b] ← Σ x² in double over block b = x[b·kSumSquaresBlock, …) of the
  // n elements (the last block may be short), the same bits for any thread
  // count. The gradient norm adds the parts in order (train/param_set.h),
  // so that a rank owning a run of whole blocks computes its share exactly.
  // part is host memory (the caller adds the parts there), x the backend's.
  static constexpr int64_t kSumSquaresBlock = int64_t(1) << 16;
  virtual void sum_squares_blocks(const float* x, int64_t n, double* part) const = 0;

  // ---- frozen weights in another format ----
  // A backend that runs every weight added to it from its own copy in
  // format f (rounded or quantized once, at add) and delegates everything
  // else to this one. Inputs and accumulation stay fp32. With
  // pack_on_first_use, every weight its matmul_forward meets is added then
  // (an inference model's linear layers, without listing them), except one
  // whose rows are not whole blocks of the format, which stays fp32. F32
  // makes no copy: the weight's own rows are streamed for a few input rows
  // (decoding) and multiplied by the ordinary GEMM otherwise. The frozen
  // teacher's layers in steps 1 and 2 run through one in bf16; inference
  // through one in the format the user asks (--dtype, f32 included).
  class FrozenWeights;
  virtual bool has_bf16_gemm() const = 0;
  virtual std::unique_ptr<FrozenWeights> frozen_weights(WeightFormat f, bool pack_on_first_use = false) const = 0;
};

class Backend::FrozenWeights {
 public:
  virtual ~FrozenWeights() = default;
  // HF [OC, C]; repeats are no-ops. C must be a multiple of
  // weight_format_block(f) (the call throws Error naming the shape).
  virtual void add(const float* weight, int64_t OC, int64_t C) = 0;
  virtual const Backend& backend() const = 0;
  virtual WeightFormat format() const = 0;
  virtual size_t bytes() const = 0;    // the copies held
  virtual size_t weights() const = 0;  // how many
  virtual size_t elements() const = 0; // their elements (Σ OC·C)
  // Returns the fp32 sources' memory to the system (their addresses stay the
  // weights' handles; reading one afterwards reads zeros), except those in
  // keep (a tied embedding, read by embedding_forward too). Returns bytes freed.
  virtual size_t release_sources(const float* const* keep, size_t n_keep) = 0;
  // A weight held as a file stores it (any type io/ggml_types.h dequantizes:
  // Q8_0, Q4_K, Q6_K, bf16…): rows are OC rows of ggml_row_bytes(type, C)
  // bytes, owned by the caller, which keeps them alive and unchanged. Its
  // matmuls decode it in registers (a few rows) or into fp32 GEMMs (a
  // prompt), with fp32 inputs; with quantize_inputs, a few rows of a type
  // with integer kernels are rounded to Q8_0 blocks first, as llama.cpp does
  // (backend/cpu/stored_matmul.h). embedding_forward on its handle decodes
  // the rows it gathers: the fp32 source is never read, so its memory may be
  // given back (models/stored_weights.h).
  virtual void add_stored(const float* handle, int64_t OC, int64_t C, GgmlType type, const uint8_t* rows,
                          bool quantize_inputs = false) = 0;
};

// The backends this build has, by name ("cpu", "cuda" or "cuda:N" for GPU N
// where built with nvcc: backend/cuda/); throws Error listing them.
const Backend& backend_by_name(const std::string& name);
const Backend& cpu_backend();

}  // namespace radlads
