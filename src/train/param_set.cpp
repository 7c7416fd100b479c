#include "train/param_set.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace radlads {

namespace {
constexpr int64_t kBlock = Backend::kSumSquaresBlock;
}

ParamSet::ParamSet(const Backend& be, Model& m, const std::function<bool(const std::string&)>& trainable)
    : be(&be), grads(make_grad_arena(m, trainable, be)) {
  size_t blocks = 0;
  for (size_t i = 0; i < grads.size(); i++) {
    Tensor& t = m.weights.at(grads.name(i));
    names.push_back(grads.name(i));
    weights.push_back(&t);
    n_params += t.numel();
    first_block_.push_back(blocks);
    blocks += size_t(n_blocks(i));
  }
  if (names.empty()) fail("{}: no trainable tensors in this step", m.path);
  parts_.resize(blocks);
  own_hi_ = grads.flat_numel();
  pieces_ = pieces_in(own_lo_, own_hi_);
}

int64_t ParamSet::n_blocks(size_t i) const { return (grads.numel(i) + kBlock - 1) / kBlock; }

void ParamSet::zero_grad() { grads.zero(); }

std::vector<ParamSet::Piece> ParamSet::pieces_in(int64_t lo, int64_t hi) const {
  std::vector<Piece> out;
  for (size_t i = 0; i < names.size(); i++) {
    const int64_t o = flat_offset(i), a = std::max(lo, o), b = std::min(hi, o + grads.numel(i));
    if (a < b) out.push_back({i, a - o, b - a, a});
  }
  return out;
}

std::vector<int64_t> ParamSet::balanced_bounds(int n) const {
  CHECK(n >= 1, "{} shards", n);
  const int64_t total = grads.flat_numel();
  std::vector<int64_t> starts;  // every block start, ascending
  for (size_t i = 0; i < names.size(); i++)
    for (int64_t b = 0; b < n_blocks(i); b++) starts.push_back(flat_offset(i) + b * kBlock);
  std::vector<int64_t> bounds = {0};
  for (int r = 1; r < n; r++) {
    const int64_t want = total * r / n;
    auto it = std::lower_bound(starts.begin(), starts.end(), want);
    bounds.push_back(std::max(bounds.back(), it == starts.end() ? total : *it));
  }
  bounds.push_back(total);
  return bounds;
}

void ParamSet::shard(Comm& comm, std::vector<int64_t> bounds) {
  const int n = comm.size(), r = comm.rank();
  CHECK(bounds.size() == size_t(n) + 1 && bounds.front() == 0 && bounds.back() == grads.flat_numel(),
        "a partition of {} ranges for {} ranks over {} floats", bounds.size() - 1, n, grads.flat_numel());
  for (size_t k = 1; k + 1 < bounds.size(); k++) {
    CHECK(bounds[k] >= bounds[k - 1], "shard bounds decrease at {}", k);
    bool on_block = bounds[k] == grads.flat_numel();
    for (size_t i = 0; i < names.size() && !on_block; i++) {
      const int64_t rel = bounds[k] - flat_offset(i);
      on_block = rel >= 0 && rel < grads.numel(i) && rel % kBlock == 0;
    }
    CHECK(on_block, "shard bound {} is not on a block start", bounds[k]);
  }
  comm_ = &comm;
  bounds_ = std::move(bounds);
  own_lo_ = bounds_[size_t(r)];
  own_hi_ = bounds_[size_t(r) + 1];
  pieces_ = pieces_in(own_lo_, own_hi_);
}

double ParamSet::grad_norm() const {
  // The blocks of the pieces this rank owns (a bound is a block start, so a
  // piece starts on one); the other parts are zero, and 0 + p is p: the
  // all-reduce of the parts leaves every block's own sum.
  std::fill(parts_.begin(), parts_.end(), 0.0);
  for (const Piece& p : pieces_)
    be->sum_squares_blocks(grad(p.tensor) + p.begin, p.count, parts_.data() + first_block_[p.tensor] + p.begin / kBlock);
  if (comm_) comm_->all_reduce_sum(parts_.data(), int64_t(parts_.size()));
  double total = 0;
  for (size_t i = 0; i < names.size(); i++) {
    double t = 0;
    for (int64_t b = 0; b < n_blocks(i); b++) t += parts_[first_block_[i] + size_t(b)];
    total += t;
  }
  return std::sqrt(total);
}

void ParamSet::scale_grads(float s) {
  // Padding is zero and stays zero.
  be->scale_inplace(grads.flat() + own_lo_, s, own_hi_ - own_lo_);
}

void ParamSet::gather_weights() {
  if (!comm_) return;
  float* stage = grads.flat();
  for (const Piece& p : pieces_)
    be->copy(stage + p.flat, weights[p.tensor]->ptr() + p.begin, size_t(p.count) * sizeof(float));
  comm_->all_gather_ranges(stage, bounds_);
  for (size_t i = 0; i < names.size(); i++)
    be->copy(weights[i]->ptr(), grad(i), size_t(grads.numel(i)) * sizeof(float));
}

bool is_time_mix_param(const Model& student, const std::string& name) {
  const std::string pre = "model.layers.";
  if (name.compare(0, pre.size(), pre) != 0) return false;
  const size_t dot = name.find('.', pre.size());
  if (dot == std::string::npos || name.compare(dot, 11, ".self_attn.") != 0) return false;
  const int l = std::atoi(name.c_str() + pre.size());
  return !student.student.softmax_layer(l, student.cfg.n_layer);
}

}  // namespace radlads
