// What one training step optimises, on one micro-batch: B windows of T+1
// tokens (inputs are the first T, targets the last T). The objective runs the
// forward, returns the loss SUM over its rows and accumulates (+=) into the
// gradients grad_scale times the gradient of that sum, so the trainer can
// accumulate micro-batches into one global batch (grad_scale = 1/rows of the
// global batch).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/model.h"
#include "models/teacher.h"
#include "models/time_mix.h"

namespace radlads {

struct ObjectiveLoss {
  double sum = 0;                  // loss summed over rows (tokens, or tokens·layers for alignment)
  int64_t rows = 0;                // what sum is a sum over
  std::vector<double> layer_sum;   // alignment: per layer, summed over tokens
};

class Objective {
 public:
  virtual ~Objective() = default;
  // The result stays valid until the next call (the objective reuses it, so
  // that a step allocates nothing once the first has sized every buffer).
  virtual const ObjectiveLoss& accumulate(const int32_t* windows, int B, int T, float grad_scale, Arena* g) = 0;
  // Rows of one window of T tokens (for grad_scale).
  virtual int64_t rows_per_window(int T) const = 0;
};

// Step 1: the teacher's residual stream drives every layer; each student time
// mix learns its teacher attention's output (DESIGN.md: mean over layers and
// tokens of ‖y_T − y_S‖₂/√C). owned_layers (empty: all) limits the loss and
// gradients to those layers (layer-parallel alignment; RAD-RWKV7 also runs
// layer 0 for the value residual, adding only its v_first gradient there).
std::unique_ptr<Objective> make_align_objective(const Backend& be, const Model& teacher, const Model& student,
                                                TeacherGemm gemm = TeacherGemm::F32,
                                                std::vector<bool> owned_layers = {});

// Steps 2 and 3: kl_weight·KL(teacher‖student) + ce_weight·CE(targets), each
// a mean over tokens. teacher may be null when kl_weight is 0. recompute: the
// student keeps only each layer's input and reruns the layer in the backward
// (Student::set_recompute; the same gradients, bit for bit).
std::unique_ptr<Objective> make_distill_objective(const Backend& be, const Model* teacher, const Model& student,
                                                  double kl_weight, double ce_weight,
                                                  TeacherGemm gemm = TeacherGemm::F32, bool recompute = false);

// Rows per block of the distillation heads and losses for a vocabulary of V.
int64_t distill_head_rows(int64_t V);

}  // namespace radlads
