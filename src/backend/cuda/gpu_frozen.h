// GpuOps' frozen weights (Backend::FrozenWeights): f32 read in place, or a
// bf16 copy multiplied with bf16 inputs and fp32 accumulation (cuBLAS
// GemmEx) — the frozen teacher of steps 1 and 2. Quantized formats and a
// file's own blocks (add_stored) are the CPU backend's for now: asking for
// them here fails with a message saying so.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "backend/cuda/gpu_ops.h"

namespace radlads::gpu {

template <class RT>
class GpuFrozenBackend final : public GpuOps<RT> {
 public:
  GpuFrozenBackend(const RT& rt, WeightFormat f, bool lazy) : GpuOps<RT>(rt), f_(f), lazy_(lazy) {}
  ~GpuFrozenBackend() override {  // (nothing may throw here)
    for (auto& [w, p] : w_) try {
        if (p.bf16) this->rt_.free(p.bf16);
      } catch (...) {
      }
  }

  void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int64_t M, int64_t C,
                      int64_t OC) const override {
    const Held* p = find(weight);
    if (!p && lazy_) p = &add(weight, OC, C);
    if (!p || !p->bf16) return GpuOps<RT>::matmul_forward(out, inp, weight, bias, M, C, OC);
    GPU_REQUIRE(p->C == C && p->OC == OC, "frozen weight is (", p->OC, ",", p->C, "), the call wants (", OC, ",", C,
                ")");
    typename GpuOps<RT>::template Scratch<uint16_t> in(this->rt_, M * C);
    this->template run<ToBf16>(M * C, in.p, inp, M * C);
    this->rt_.gemm_bf16(false, true, int(M), int(OC), int(C), 1.0f, in.p, int(C), p->bf16, int(C), 0.0f, out,
                        int(OC));
    if (bias) this->template run<AddRowBias>(M * OC, out, bias, M, OC);
  }

  struct Held {
    int64_t OC = 0, C = 0;
    uint16_t* bf16 = nullptr;  // null: f32, read in place
  };
  const Held& add(const float* w, int64_t OC, int64_t C) const {
    std::lock_guard<std::mutex> lock(fmu_);
    auto it = w_.find(w);
    if (it != w_.end()) return it->second;
    Held h{OC, C, nullptr};
    if (f_ == WeightFormat::BF16) {
      h.bf16 = static_cast<uint16_t*>(this->rt_.alloc(size_t(OC * C) * sizeof(uint16_t)));
      this->template run<ToBf16>(OC * C, h.bf16, w, OC * C);
      bytes_ += size_t(OC * C) * sizeof(uint16_t);
    }
    elements_ += size_t(OC * C);
    return w_.emplace(w, h).first->second;
  }
  const Held* find(const float* w) const {
    std::lock_guard<std::mutex> lock(fmu_);
    auto it = w_.find(w);
    return it == w_.end() ? nullptr : &it->second;
  }
  WeightFormat format() const { return f_; }
  size_t bytes() const { return bytes_; }
  size_t weights() const {
    std::lock_guard<std::mutex> lock(fmu_);
    return w_.size();
  }
  size_t elements() const { return elements_; }

 private:
  WeightFormat f_;
  bool lazy_;
  mutable std::mutex fmu_;
  mutable std::unordered_map<const float*, Held> w_;
  mutable size_t bytes_ = 0, elements_ = 0;
};

template <class RT>
class GpuFrozenWeights final : public Backend::FrozenWeights {
 public:
  GpuFrozenWeights(const RT& rt, WeightFormat f, bool lazy) : be_(rt, f, lazy) {}
  void add(const float* weight, int64_t OC, int64_t C) override { be_.add(weight, OC, C); }
  const Backend& backend() const override { return be_; }
  WeightFormat format() const override { return be_.format(); }
  size_t bytes() const override { return be_.bytes(); }
  size_t weights() const override { return be_.weights(); }
  size_t elements() const override { return be_.elements(); }
  // The fp32 sources live in the caller's device arena; a slice of it cannot
  // be handed back on its own, so nothing is freed.
  size_t release_sources(const float* const*, size_t) override { return 0; }
  void add_stored(const float*, int64_t, int64_t, GgmlType, const uint8_t*, bool) override {
    gpu_fail("the ", RT::kName, " backend does not run a file's own quantized blocks yet (--dtype stored is CPU-only)");
  }

 private:
  GpuFrozenBackend<RT> be_;
};

template <class RT>
std::unique_ptr<Backend::FrozenWeights> GpuOps<RT>::frozen_weights(WeightFormat f, bool pack_on_first_use) const {
  if (f != WeightFormat::F32 && f != WeightFormat::BF16)
    gpu_fail("the ", RT::kName, " backend holds frozen weights in f32 or bf16, not ", weight_format_name(f),
             " (quantized inference is CPU-only)");
  return std::make_unique<GpuFrozenWeights<RT>>(rt_, f, pack_on_first_use);
}

}  // namespace radlads::gpu
