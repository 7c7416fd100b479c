// Learning-rate schedules of DESIGN.md: a linear warm-up from 1 % to 100 % of
// the rate, then either a quarter cosine from lr_start to lr_end over the
// whole step, lr = lr_end + (lr_start − lr_end)·cos(π/2·progress), or flat.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

namespace radlads {

struct LrSchedule {
  enum Kind { Cosine, Flat } kind = Flat;
  double lr_start = 1e-5, lr_end = 1e-5;
  int64_t warmup_steps = 50;
  int64_t total_steps = 1;

  double at(int64_t step) const {  // step = 0 .. total_steps-1
    const double progress = total_steps > 1 ? double(step) / double(total_steps - 1) : 0.0;
    double lr = kind == Flat ? lr_start
                             : lr_end + (lr_start - lr_end) * std::cos(M_PI / 2 * std::min(1.0, progress));
    if (step < warmup_steps) lr *= 0.01 + 0.99 * double(step) / double(warmup_steps);
    return lr;
  }
  static Kind kind_from_name(const std::string& s);  // "cosine" | "flat"; throws Error
  static const char* kind_name(Kind k) { return k == Cosine ? "cosine" : "flat"; }
};

}  // namespace radlads
