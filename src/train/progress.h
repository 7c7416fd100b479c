// A one-line training progress bar: phase, step/total, a bar, tokens/s (recent
// and overall), ETA and loss. On a terminal it redraws in place with '\r' a
// few times a second; elsewhere (CI logs, nohup) it prints a plain line every
// few seconds so the log stays readable. Clock and stream are injectable so
// tests can drive it.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace radlads {

struct ProgressOptions {
  std::FILE* out = stderr;
  std::function<double()> now;     // seconds on a monotonic clock; empty = steady_clock
  int tty = -1;                    // -1: isatty(out); 0 or 1 forces the mode
  double redraw_interval_s = 0.25; // terminal: at most ~4 redraws a second
  double line_interval_s = 10.0;   // not a terminal: one plain line this often
  double rate_window_s = 10.0;     // time constant of the recent tokens/s average
  int bar_width = 24;
  int64_t start_step = 0;          // where a resumed run starts, so the overall
  int64_t start_tokens = 0;        // rate counts only this run's work
};

class ProgressBar {
 public:
  // total_tokens = 0: the ETA comes from the step rate instead.
  ProgressBar(std::string label, int64_t total_steps, int64_t total_tokens, ProgressOptions opt = {});
  ~ProgressBar();  // ends a half-drawn terminal line so later output starts clean
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // step and tokens are cumulative (steps done, tokens consumed so far).
  // Updates the rates every call; draws only when the interval has passed
  // (and always at the last step on a terminal).
  void update(int64_t step, int64_t tokens, double loss, const std::string& extra = "");
  // Prints the final line (elapsed time instead of ETA) ending in a newline.
  // Later calls do nothing.
  void finish();

  std::string line() const;       // the text a draw now would show
  double recent_tok_s() const { return ema_tok_s_; }
  double overall_tok_s() const;

 private:
  void draw(bool final);

  std::string label_;
  int64_t total_steps_, total_tokens_;
  ProgressOptions opt_;
  bool tty_;
  double t0_, t_prev_, t_last_draw_ = -1e300;
  int64_t step_, tokens_, tokens_prev_, step_prev_;
  double loss_ = NAN;
  std::string extra_;
  double ema_tok_s_ = 0, ema_step_s_ = 0;
  bool have_rate_ = false, drawn_ = false, finished_ = false;
};

// "h:mm:ss" (hours unbounded); "--:--:--" for a negative or non-finite time.
std::string format_hms(double seconds);
// Compact rate or count, three significant digits: 950, 9.50k, 12.3k, 1.20M.
std::string format_si(double v);

}  // namespace radlads
