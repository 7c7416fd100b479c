// The Student's training Workspace, counted ahead from the sizes and options:
// what forward_train keeps (every activation, or with recompute each layer's
// input) and the backward's peak. The memory plan (train/memory_plan.h) prints
// it and the objectives reserve it, so that a first pass does not grow block
// by block; tests/train/test_memory_plan.cpp holds it to the Workspace's own
// measure.
#include <algorithm>

#include "models/mixers/mixer_arch.h"
#include "models/student.h"

namespace radlads {

int64_t Student::train_workspace_floats(const TeacherConfig& c, const StudentOptions& o, int B, int T, bool recompute) {
  const int64_t M = int64_t(B) * T, C = c.n_embd, F = c.n_ff, A = int64_t(c.n_head) * c.head_dim;
  const MixerArch& arch = mixer_arch(o.arch);
  const bool vr = arch.value_residual;
  // Student::run: x xn y, v_first, the B sequences' per-layer states.
  const int64_t base = 3 * C * M + (vr ? A * M : 0) + int64_t(B) * (arch.state_floats(c) + arch.shift_floats(c));
  const int64_t final_ = (3 * C + 1) * M;        // x_final, rstd, xn_final, d_xn_final
  const int64_t bwd_base = (3 * C + (vr ? A : 0)) * M;  // d_x d_xn d_tmp, d_v_first
  int64_t kept = 0, peak = 0;
  for (int l = 0; l < c.n_layer; l++) {
    const MixerTrainFloats m = layer_train_floats(c, o, l);
    // xn rstd, the mixer's, x_mid, the MLP's rstd xn y gate up act
    const int64_t acts = (C + 1 + m.forward + C + 1 + 2 * C + 3 * F) * M;
    const int64_t bwd = std::max(3 * F + 2 * C, m.backward) * M;  // the MLP's scratch, then the mixer's
    kept += C * M + (recompute ? 0 : acts);
    peak = std::max(peak, (recompute ? acts : 0) + bwd);
  }
  return base + kept + final_ + bwd_base + peak;
}

}  // namespace radlads
