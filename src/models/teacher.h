// The teacher: a Llama / Qwen2 / Mistral-style decoder (DESIGN.md, Teacher),
// fp32 compute, batched prefill and KV-cache decode through one forward.
#pragma once

#include <cstdint>
#include <string>
#include <functional>
#include <memory>
#include <vector>

#include "models/attention_block.h"
#include "models/decoder_parts.h"
#include "models/model.h"
#include "backend/backend.h"
#include "backend/device_array.h"
#include "backend/rope_table.h"

namespace radlads {

// q/k/v/o (and biases) of layer l, as views into the model's weights.
AttentionWeights teacher_attention_weights(const Model& m, int l);

// The precision of the teacher's linear layers: fp32, or bf16 inputs and
// weights with fp32 accumulation (Backend::frozen_weights) for the frozen teacher
// of steps 1 and 2 where the CPU multiplies bf16 natively.
// Stored: the linear weights kept as the teacher's file stores them
// (models/stored_weights.h), decoded block by block into fp32 GEMMs — the
// f32 results within rounding, with memory about the file's size. A Teacher
// of a model holding stored weights always runs them so.
enum class TeacherGemm { F32, BF16, Stored };
const char* teacher_gemm_name(TeacherGemm g);            // "f32" / "bf16" / "stored"
// "f32" | "bf16" | "stored" | "auto" (bf16 where be has a fast bf16 GEMM); throws Error.
TeacherGemm teacher_gemm_from_name(const std::string& s, const Backend& be);

class Teacher {
 public:
  // Runs on be (its linear layers in bf16 through be.frozen_weights(BF16) for
  // TeacherGemm::BF16); the Model must outlive the Teacher. A Model holding
  // stored weights (hold_teacher_stored) is multiplied on them whatever gemm
  // says; quantize_inputs lets a few rows at a time (decoding) meet them as
  // llama.cpp's integer kernels do (Backend::FrozenWeights::add_stored).
  Teacher(const Backend& be, const Model& m, TeacherGemm gemm = TeacherGemm::F32, bool quantize_inputs = false);
  const TeacherConfig& cfg() const { return c_; }

  using Logits = LogitsMode;
  // tokens (B,T): T new tokens for each of B sequences, appended to caches[b]
  // at positions caches[b].n_past onwards (each cache needs room for T more).
  // logits: (B,T,V) for All, (B,V) for Last, untouched for None and Hidden
  // (which keeps the final normed rows for head_rows instead).
  void forward(const int32_t* tokens, int B, int T, KVCache* caches, float* logits, Logits mode);
  // After a Hidden forward: the logits of rows [r0, r0 + n) of its B*T.
  void head_rows(float* logits, int64_t r0, int64_t n) const;

  // Sizes the position tables for n positions now, so that decoding up to
  // n allocates nothing per token (a decode state calls it with its n_ctx).
  void reserve_positions(int n) { rope_.ensure(n); }

  // Called in every layer with the attention block's normed input xn (M,C)
  // and its output y (M,C) after o_proj: step 1 (alignment) trains each
  // student time mix on exactly these. Empty: not called.
  std::function<void(int layer, const float* xn, const float* y)> layer_hook;

 private:
  const Backend* be_;  // be, or the bf16 frozen view of it
  TeacherConfig c_;
  std::vector<const float*> in_norm_;
  std::vector<AttentionWeights> attn_;
  std::vector<MlpWeights> mlp_;
  const float *embed_, *norm_, *head_;
  RopeTable rope_;
  std::vector<int32_t> pos_;      // the pass's positions, computed here
  DeviceArray<int32_t> pos_dev_;  // and in the backend's memory, for the ops
  Workspace ws_;  // every buffer of a forward, settled at its end
  DeviceArray<float> hidden_;  // a Hidden forward's (B*T, C) final normed rows
  int64_t hidden_rows_ = 0;
  std::unique_ptr<Backend::FrozenWeights> frozen_;  // bf16 copies (TeacherGemm::BF16), or the model's stored weights
};

}  // namespace radlads
