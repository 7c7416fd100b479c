// Inference with the linear weights held in another format (InferOptions,
// Backend::frozen_weights packing on first use) against an independent path:
// the plain fp32 model run on a backend whose matmuls use each weight
// round-tripped through io's reference quantizer and dequantizer (gguf-py
// checked), and decoding rows against Q8_0/Q4_0 through the Q8_0 one, with
// double accumulation. Teachers and students (RAD-RWKV6, a
// RAD-RWKV7 hybrid), decoding token by token (the row-streaming kernel) and
// scoring a whole sequence (the decode-then-sgemm path).
#include <cstring>
#include <map>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/packed_matmul.h"
#include "core/fp16.h"
#include "infer/language_model.h"
#include "io/ggml_types.h"
#include "models/golden_models.h"
#include "models/random_student.h"
#include "test_util.h"

namespace radlads {
using namespace test;

namespace {

// The weight as format f holds it, through the reference (de)quantizers.
std::vector<float> round_trip(const float* w, int64_t n, WeightFormat f) {
  std::vector<float> out(static_cast<size_t>(n));
  switch (f) {
    case WeightFormat::F32: std::memcpy(out.data(), w, size_t(n) * 4); break;
    case WeightFormat::F16:
      for (int64_t i = 0; i < n; i++) out[size_t(i)] = f16_to_f32(f32_to_f16(w[i]));
      break;
    case WeightFormat::BF16:
      for (int64_t i = 0; i < n; i++) out[size_t(i)] = bf16_to_f32(f32_to_bf16(w[i]));
      break;
    case WeightFormat::Q8_0:
    case WeightFormat::Q4_0: {
      const GgmlType t = f == WeightFormat::Q8_0 ? GgmlType::Q8_0 : GgmlType::Q4_0;
      const std::vector<uint8_t> q = quantize_row(t, w, n);
      dequantize_row(t, q.data(), out.data(), n);
      break;
    }
  }
  return out;
}

class RoundTripBackend final : public CpuBackend {
 public:
  explicit RoundTripBackend(WeightFormat f) : f_(f) {}
  void matmul_forward(float* out, const float* inp, const float* w, const float* bias, int64_t M, int64_t C,
                      int64_t OC) const override {
    if (C % weight_format_block(f_) != 0) return CpuBackend::matmul_forward(out, inp, w, bias, M, C, OC);
    auto it = cache_.find(w);
    if (it == cache_.end()) it = cache_.emplace(w, round_trip(w, OC * C, f_)).first;
    // Decoding rows meet Q8_0/Q4_0 weights quantized to Q8_0 (packed_matmul.h).
    if (M <= kPackedStreamRowsMax && (f_ == WeightFormat::Q8_0 || f_ == WeightFormat::Q4_0)) {
      std::vector<float> xq(static_cast<size_t>(M * C));
      for (int64_t m = 0; m < M; m++) {
        const std::vector<uint8_t> q = quantize_row(GgmlType::Q8_0, inp + m * C, C);
        dequantize_row(GgmlType::Q8_0, q.data(), xq.data() + m * C, C);
      }
      return matmul_forward_naive(out, xq.data(), it->second.data(), bias, M, C, OC);
    }
    matmul_forward_naive(out, inp, it->second.data(), bias, M, C, OC);
  }

 private:
  WeightFormat f_;
  mutable std::map<const float*, std::vector<float>> cache_;
};

struct Case {
  const char* name;
  Model (*make)();
};

Model teacher_qwen2() { return open_model(golden_model("qwen2")); }
Model teacher_llama() { return open_model(golden_model("llama")); }
Model student_rwkv6() { return random_student({StudentArch::RWKV6, "qwen2"}, 5); }
Model student_rwkv7_hybrid() {
  StudentSpec s{StudentArch::RWKV7, "llama"};
  s.use_rope = 1, s.attention_layers = 1;
  return random_student(s, 6);
}

}  // namespace

TEST(PackedInference, EqualsTheRoundTrippedFp32ModelDecodingAndScoring) {
  const auto ids = golden_tokens("qwen2");
  const int T = int(ids.size());
  for (Case c : {Case{"teacher qwen2", teacher_qwen2}, Case{"teacher llama", teacher_llama},
                 Case{"rad-rwkv6", student_rwkv6}, Case{"rad-rwkv7 hybrid", student_rwkv7_hybrid}})
    for (WeightFormat f : {WeightFormat::F32, WeightFormat::F16, WeightFormat::BF16, WeightFormat::Q8_0,
                           WeightFormat::Q4_0}) {
      SCOPED_TRACE(std::string(c.name) + " " + weight_format_name(f));
      RoundTripBackend ref_be(f);
      auto ref = make_language_model(ref_be, c.make());
      InferOptions o;
      o.weights = f;
      auto lm = make_language_model(cpu_backend(), c.make(), o);
      ASSERT_NE(lm->frozen(), nullptr);
      EXPECT_GT(lm->frozen()->weights(), 0u) << "no weight was packed";
      const int V = lm->n_vocab();
      // Decoding: one row per matmul.
      auto s_ref = ref->new_state(T), s_got = lm->new_state(T);
      std::vector<float> a(static_cast<size_t>(V)), b(static_cast<size_t>(V));
      double worst = 0;
      for (int t = 0; t < T; t++) {
        s_ref->feed(&ids[size_t(t)], 1, a.data());
        s_got->feed(&ids[size_t(t)], 1, b.data());
        worst = std::max(worst, rel_err(b, a));
      }
      EXPECT_LT(worst, 2e-5);
      // Scoring: the prompt path, fp32 inputs (bf16 rounds them there: matmul_bf16.h).
      if (f == WeightFormat::BF16) continue;
      std::vector<float> fa(size_t(T) * V), fb(fa.size());
      ref->score(ids.data(), 1, T, fa.data());
      lm->score(ids.data(), 1, T, fb.data());
      EXPECT_LT(rel_err(fb, fa), 2e-5);
    }
}

}  // namespace radlads

namespace radlads {
using namespace test;

// Continuous batching's step: sequences at different positions stepped
// together give each the logits it gets alone (same bits for packed
// weights: every row of the row-streaming kernel runs the same operations).
TEST(BatchedStep, EqualsEachSequenceFedAlone) {
  const auto ids = golden_tokens("qwen2");
  for (Case c : {Case{"teacher qwen2", teacher_qwen2}, Case{"rad-rwkv6", student_rwkv6},
                 Case{"rad-rwkv7 hybrid", student_rwkv7_hybrid}}) {
    SCOPED_TRACE(c.name);
    auto lm = make_language_model(cpu_backend(), c.make());
    const int V = lm->n_vocab(), B = 3;
    std::vector<std::unique_ptr<DecodeState>> alone, together;
    std::vector<float> logits(size_t(B) * V), one(static_cast<size_t>(V));
    for (int b = 0; b < B; b++) {  // prompts of 2, 3, 4 tokens
      alone.push_back(lm->new_state(16));
      together.push_back(lm->new_state(16));
      alone.back()->feed(ids.data() + b, 2 + b, one.data());
      together.back()->feed(ids.data() + b, 2 + b, one.data());
    }
    std::vector<DecodeState*> ptrs;
    for (auto& s : together) ptrs.push_back(s.get());
    for (int t = 0; t < 4; t++) {
      std::vector<int32_t> toks;
      for (int b = 0; b < B; b++) toks.push_back(ids[size_t(5 + b + t)]);
      lm->step(ptrs.data(), toks.data(), B, logits.data());
      for (int b = 0; b < B; b++) {
        alone[size_t(b)]->feed(&toks[size_t(b)], 1, one.data());
        std::vector<float> row(logits.begin() + int64_t(b) * V, logits.begin() + int64_t(b + 1) * V);
        EXPECT_LT(rel_err(row, one), 1e-5) << "t=" << t << " b=" << b;
        EXPECT_EQ(together[size_t(b)]->n_past(), alone[size_t(b)]->n_past());
      }
    }
  }
}

}  // namespace radlads
