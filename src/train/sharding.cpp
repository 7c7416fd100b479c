#include "train/sharding.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "core/error.h"
#include "models/mixers/mixer_arch.h"

namespace radlads {

int layer_of(const std::string& name) {
  const std::string pre = "model.layers.";
  if (name.compare(0, pre.size(), pre) != 0) return -1;
  return std::atoi(name.c_str() + pre.size());
}

namespace {

std::string mb(int64_t bytes) { return fmt::format("{:.1f} MB", double(bytes) / 1e6); }

// Cuts on layer starts (a layer's tensors are contiguous in name order:
// "model.layers.1." sorts before "model.layers.10."), near equal sizes.
std::vector<int64_t> layer_bounds(const ParamSet& p, int n) {
  std::vector<int64_t> starts;  // flat offset of each layer's first tensor, ascending
  int prev = -2;
  for (size_t i = 0; i < p.names.size(); i++) {
    const int l = layer_of(p.names[i]);
    CHECK(l >= 0, "layer-parallel training of {}, which belongs to no layer", p.names[i]);
    if (l != prev) starts.push_back(p.flat_offset(i));
    prev = l;
  }
  const int64_t total = p.grads.flat_numel();
  std::vector<int64_t> bounds = {0};
  for (int r = 1; r < n; r++) {
    const int64_t want = total * r / n;
    auto it = std::lower_bound(starts.begin(), starts.end(), want);
    // The nearer of the starts around the ideal cut.
    int64_t cut = it == starts.end() ? total : *it;
    if (it != starts.begin() && want - *(it - 1) < cut - want) cut = *(it - 1);
    bounds.push_back(std::max(bounds.back(), cut));
  }
  bounds.push_back(total);
  return bounds;
}

}  // namespace

PhaseSharing plan_sharing(const ExecContext& ctx, const Model& student, ParamSet& params, bool zero, bool layers) {
  PhaseSharing s;
  const int N = ctx.world(), R = ctx.rank();
  const int64_t whole_adamw = 2 * params.grads.flat_numel() * int64_t(sizeof(float));
  if (N == 1) {
    s.summary = fmt::format("AdamW moments {} (one process)", mb(whole_adamw));
    return s;
  }
  if (layers) {
    params.shard(*ctx.comm, layer_bounds(params, N));
    s.step.split_batch = false;
    s.step.grads = StepSharing::Grads::Own;
    const int L = student.cfg.n_layer;
    s.owned_layers.assign(size_t(L), false);
    int first0 = -1, last0 = -1;  // layer 0's tensors
    for (size_t i = 0; i < params.names.size(); i++) {
      const int l = layer_of(params.names[i]);
      const int64_t o = params.flat_offset(i);
      if (o >= params.own_begin() && o < params.own_end() && l < L) s.owned_layers[size_t(l)] = true;
      if (l == 0) last0 = int(i), first0 = first0 < 0 ? int(i) : first0;
    }
    // RAD-RWKV7's value residual: every rank runs layer 0 and adds its
    // layers' v_first gradient to layer 0's parameters; those are summed.
    if (mixer_arch(student.student.arch).value_residual && first0 >= 0) {
      s.step.coupled_begin = params.flat_offset(size_t(first0));
      s.step.coupled_end = params.flat_offset(size_t(last0)) + params.grads.numel(size_t(last0));
    }
    int n_own = 0;
    for (bool b : s.owned_layers) n_own += b;
    s.summary = fmt::format("layer-parallel: rank {} aligns {} of {} layers over the whole batch{}; AdamW moments {} "
                            "on this rank ({} unsharded)",
                            R, n_own, L, s.step.coupled_end > 0 ? " (layer 0's gradient summed: v_first)" : "",
                            mb(2 * (params.own_end() - params.own_begin()) * int64_t(sizeof(float))), mb(whole_adamw));
    return s;
  }
  if (zero) {
    params.shard(*ctx.comm, params.balanced_bounds(N));
    s.step.grads = StepSharing::Grads::ReduceScatter;
    s.summary = fmt::format("ZeRO-1 over {} ranks: AdamW moments {} on this rank ({} unsharded)", N,
                            mb(2 * (params.own_end() - params.own_begin()) * int64_t(sizeof(float))), mb(whole_adamw));
    return s;
  }
  s.summary = fmt::format("data parallel over {} ranks: AdamW moments {} on every rank (--zero 1 divides them by {})", N,
                          mb(whole_adamw), N);
  return s;
}

}  // namespace radlads
