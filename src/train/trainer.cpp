#include "train/trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/sysinfo.h"
#include "data/windows.h"

namespace radlads {

void check_batch_splits(const PhaseConfig& pc, int world) {
  if (pc.batch % world != 0)
    fail("phase {}: a batch of {} windows does not split over {} ranks; make it a multiple of {} (--batch for "
         "steps 1-2, --step3-batch for step 3)",
         pc.name, pc.batch, world, world);
}

void train_phase(const ExecContext& ctx, const PhaseConfig& pc, Objective& obj, ParamSet& params, AdamW& opt,
                 const WindowSampler& sampler, int64_t start_step,
                 const std::function<void(const StepReport&)>& after_step, const StepSharing& sharing) {
  const int T = pc.seq_len, B = pc.batch, MB = std::min(pc.micro_batch, pc.batch);
  CHECK(T > 0 && B > 0 && MB > 0, "phase {}: bad batch shape", pc.name);
  // Data parallel: rank r of N takes the r-th contiguous share of each
  // step's global batch (windows step·B + r·B/N …), so the global data order
  // is the one-process order whatever N is.
  const int N = sharing.split_batch ? ctx.world() : 1, R = sharing.split_batch ? ctx.rank() : 0;
  check_batch_splits(pc, N);
  const int local_B = B / N, first = R * local_B;
  CHECK((sharing.grads == StepSharing::Grads::AllReduce) != params.sharded(),
        "phase {}: the parameter set must be sharded exactly when the gradients are", pc.name);
  LrSchedule sched = pc.lr;
  sched.total_steps = std::max<int64_t>(1, pc.steps());
  const int64_t rows_per_step = int64_t(B) * obj.rows_per_window(T);
  const float grad_scale = float(1.0 / double(rows_per_step));
  std::vector<int32_t> windows(size_t(MB) * size_t(T + 1));
  // Reused across steps (their vectors keep their capacity): a step after
  // the first allocates nothing.
  ObjectiveLoss total;
  StepReport r;
  int skipped_in_row = 0;
  for (int64_t step = start_step; step < pc.steps(); step++) {
    const double t0 = now_seconds();
    params.zero_grad();
    total.sum = 0;
    total.rows = 0;
    std::fill(total.layer_sum.begin(), total.layer_sum.end(), 0.0);
    for (int k = 0; k < local_B; k += MB) {
      const int nb = std::min(MB, local_B - k);
      for (int b = 0; b < nb; b++)
        sampler.window(step * B + first + k + b, windows.data() + size_t(b) * size_t(T + 1));
      const ObjectiveLoss& l = obj.accumulate(windows.data(), nb, T, grad_scale, &params.grads);
      total.sum += l.sum;
      total.rows += l.rows;
      if (total.layer_sum.size() < l.layer_sum.size()) total.layer_sum.resize(l.layer_sum.size(), 0.0);
      for (size_t i = 0; i < l.layer_sum.size(); i++) total.layer_sum[i] += l.layer_sum[i];
    }
    switch (sharing.grads) {
      case StepSharing::Grads::AllReduce: ctx.comm->all_reduce_sum(params.grads.flat(), params.grads.flat_numel()); break;
      case StepSharing::Grads::ReduceScatter: ctx.comm->reduce_scatter_sum(params.grads.flat(), params.bounds()); break;
      case StepSharing::Grads::Own:
        if (sharing.coupled_end > sharing.coupled_begin)
          ctx.comm->all_reduce_sum(params.grads.flat() + sharing.coupled_begin, sharing.coupled_end - sharing.coupled_begin);
        break;
    }
    double sums[2] = {total.sum, double(total.rows)};
    ctx.comm->all_reduce_sum(sums, 2);
    ctx.comm->all_reduce_sum(total.layer_sum.data(), int64_t(total.layer_sum.size()));
    total.sum = sums[0];
    total.rows = int64_t(sums[1]);
    r.step = step + 1;
    r.total_steps = pc.steps();
    r.tokens = (step + 1) * pc.tokens_per_step();
    r.loss = total.sum / double(std::max<int64_t>(1, total.rows));
    // Per-layer alignment loss: the mean over the step's tokens of each layer.
    const double tokens_in_step = double(B) * T;
    r.layer_loss.clear();
    for (double s : total.layer_sum) r.layer_loss.push_back(s / tokens_in_step);
    r.grad_norm = params.grad_norm();  // every rank sees the same reduced loss and norm: they decide alike
    r.lr = sched.at(step);
    // A non-finite loss, or a NaN/Inf gradient with a finite one (an overflow
    // in a backward), would poison every weight it touches: no update, so the
    // weights and the last checkpoint stay as the previous step left them.
    // Skipped (up to skip_nonfinite in a row), or the phase stops naming the step.
    r.skipped = !std::isfinite(r.loss) || !std::isfinite(r.grad_norm);
    if (r.skipped) {
      const std::string what = !std::isfinite(r.loss) ? fmt::format("the loss is {} (diverged)", r.loss)
                                                      : fmt::format("the gradient norm is {} (an overflow in the "
                                                                    "backward)", r.grad_norm);
      if (skipped_in_row >= pc.skip_nonfinite)
        fail("phase {} step {}: {}; the weights are those of step {}{}; lower --lr, or resume from the last "
             "checkpoint{}",
             pc.name, step + 1, what, step - skipped_in_row,
             skipped_in_row ? fmt::format(" ({} steps skipped in a row before it)", skipped_in_row) : "",
             pc.skip_nonfinite ? "" : " (--skip-nonfinite N skips up to N such steps in a row)");
      skipped_in_row++;
      if (ctx.rank() == 0)
        fmt::print(stderr, "radlads: phase {} step {}: {}; step skipped, the weights unchanged ({} of {} in a row)\n",
                   pc.name, step + 1, what, skipped_in_row, pc.skip_nonfinite);
      r.seconds = now_seconds() - t0;
      after_step(r);
      continue;
    }
    skipped_in_row = 0;
    // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when above.
    if (pc.clip > 0 && r.grad_norm > pc.clip) params.scale_grads(float(pc.clip / (r.grad_norm + 1e-6)));
    opt.step(params, r.lr);
    params.gather_weights();  // sharded: every rank's updated range to every rank
    r.seconds = now_seconds() - t0;
    after_step(r);
  }
}

}  // namespace radlads
