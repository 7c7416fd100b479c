// The trainable tensors of one training step: views into a Model's weights
// (by HF name), their gradients in one arena with the same names, order and
// shapes, and the flat loops the optimiser needs (zero-grad, global norm,
// scale). Which tensors train is a predicate on the name: the parameter
// groups of DESIGN.md's steps.
//
// Sharding (ZeRO-1, and layer-parallel alignment): the gradient arena's flat
// range is cut into one contiguous range per rank, with every cut on the
// start of a tensor's sum-of-squares block (backend.h). A rank then owns the
// gradient, the optimiser moments and the update of its range only; the
// gradient norm adds every block's sum in the same order as one process does,
// so it is the same bits for any rank count.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "engine/comm.h"
#include "models/model.h"
#include "models/time_mix.h"

namespace radlads {

struct ParamSet {
  const Backend* be;               // where the weights and gradients live and the loops run
  std::vector<std::string> names;  // sorted (the Model's map order)
  std::vector<Tensor*> weights;    // views into the Model, same order
  Arena grads;                     // tensor i is names[i]'s gradient (zeros after zero_grad)
  int64_t n_params = 0;

  // A run of tensor i inside this rank's range: elements [begin, begin+count)
  // of the tensor, at flat (the gradient arena's float offset).
  struct Piece {
    size_t tensor;
    int64_t begin, count, flat;
  };

  ParamSet(const Backend& be, Model& m, const std::function<bool(const std::string&)>& trainable);
  float* grad(size_t i) const { return grads.f32(i); }
  int64_t flat_offset(size_t i) const { return grads.f32(i) - grads.flat(); }
  void zero_grad();

  // Cuts that split the flat range into n near-equal runs of whole blocks.
  std::vector<int64_t> balanced_bounds(int n) const;
  // From now on this rank (comm's) owns [bounds[rank], bounds[rank+1]); bounds
  // has comm.size()+1 entries from 0 to grads.flat_numel(), each cut on a
  // block start (CHECKed).
  void shard(Comm& comm, std::vector<int64_t> bounds);
  bool sharded() const { return comm_ != nullptr; }
  const std::vector<int64_t>& bounds() const { return bounds_; }
  int64_t own_begin() const { return own_lo_; }
  int64_t own_end() const { return own_hi_; }
  const std::vector<Piece>& own_pieces() const { return pieces_; }  // every tensor when not sharded
  // The pieces of [lo, hi) (for streaming another rank's range).
  std::vector<Piece> pieces_in(int64_t lo, int64_t hi) const;

  // Global L2 norm of every gradient, in double: per tensor, the sum of its
  // blocks' sums in order, then over tensors in name order — the same for
  // any thread count, and when sharded for any rank count (each rank sums its
  // blocks; the parts meet through one all-reduce of the block sums).
  double grad_norm() const;
  void scale_grads(float s);  // this rank's range (all of it when not sharded)
  // Sharded: every rank's updated range of the weights to every rank (an
  // all-gather staged through the gradient arena, whose gradients are spent).
  void gather_weights();

 private:
  int64_t n_blocks(size_t i) const;
  Comm* comm_ = nullptr;
  std::vector<int64_t> bounds_;
  int64_t own_lo_ = 0, own_hi_ = 0;
  std::vector<Piece> pieces_;
  std::vector<size_t> first_block_;      // tensor i's blocks start at first_block_[i] of the norm's parts
  mutable std::vector<double> parts_;    // one per block
};

// DESIGN.md's parameter groups. Step 1: every student attention tensor of a
// recurrent (non-softmax) layer. Steps 2 and 3: every tensor.
bool is_time_mix_param(const Model& student, const std::string& name);

}  // namespace radlads
