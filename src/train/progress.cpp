// ProgressBar: rate bookkeeping on every update, drawing throttled.
#include "train/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace radlads {

namespace {
double steady_now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

std::string format_hms(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--:--";
  const auto s = int64_t(seconds + 0.5);
  return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

std::string format_si(double v) {
  if (!std::isfinite(v)) return "?";
  if (std::abs(v) < 999.5) return fmt::format("{:.0f}", v);
  static const char* kSuffix[] = {"k", "M", "G", "T"};
  int n = 0;
  double m = v / 1e3;
  // Rounding to three digits can carry into the next unit (999.7k -> 1.00M).
  while (std::abs(m) >= 999.5 && n < 3) m /= 1e3, ++n;
  const double a = std::abs(m);
  return a < 9.995 ? fmt::format("{:.2f}{}", m, kSuffix[n])
         : a < 99.95 ? fmt::format("{:.1f}{}", m, kSuffix[n])
                     : fmt::format("{:.0f}{}", m, kSuffix[n]);
}

ProgressBar::ProgressBar(std::string label, int64_t total_steps, int64_t total_tokens,
                         ProgressOptions opt)
    : label_(std::move(label)),
      total_steps_(total_steps),
      total_tokens_(total_tokens),
      opt_(std::move(opt)),
      step_(opt_.start_step),
      tokens_(opt_.start_tokens),
      tokens_prev_(opt_.start_tokens),
      step_prev_(opt_.start_step) {
  if (!opt_.now) opt_.now = steady_now;
  tty_ = opt_.tty >= 0 ? opt_.tty != 0 : ::isatty(::fileno(opt_.out)) == 1;
  t0_ = t_prev_ = opt_.now();
}

ProgressBar::~ProgressBar() {
  if (tty_ && drawn_ && !finished_) {
    std::fputc('\n', opt_.out);
    std::fflush(opt_.out);
  }
}

double ProgressBar::overall_tok_s() const {
  const double dt = t_prev_ - t0_;
  return dt > 0 ? double(tokens_ - opt_.start_tokens) / dt : 0.0;
}

void ProgressBar::update(int64_t step, int64_t tokens, double loss, const std::string& extra) {
  if (finished_) return;
  const double t = opt_.now();
  const double dt = t - t_prev_;
  // A time-weighted average: steps of any length count by how long they took,
  // so the recent rate means "about the last rate_window_s seconds".
  if (dt > 0) {
    const double tok_s = double(tokens - tokens_prev_) / dt;
    const double step_s = double(step - step_prev_) / dt;
    if (!have_rate_) {
      ema_tok_s_ = tok_s, ema_step_s_ = step_s, have_rate_ = true;
    } else {
      const double a = 1.0 - std::exp(-dt / std::max(opt_.rate_window_s, 1e-9));
      ema_tok_s_ += a * (tok_s - ema_tok_s_);
      ema_step_s_ += a * (step_s - ema_step_s_);
    }
    t_prev_ = t, tokens_prev_ = tokens, step_prev_ = step;
  }
  step_ = step, tokens_ = tokens, loss_ = loss, extra_ = extra;

  const bool last = total_steps_ > 0 && step >= total_steps_;
  const double interval = tty_ ? opt_.redraw_interval_s : opt_.line_interval_s;
  if (!drawn_ || t - t_last_draw_ >= interval || (tty_ && last)) {
    t_last_draw_ = t;
    draw(false);
  }
}

void ProgressBar::finish() {
  if (finished_) return;
  t_prev_ = std::max(t_prev_, opt_.now());
  finished_ = true;  // before drawing: line() then shows "done in"
  draw(true);
}

std::string ProgressBar::line() const {
  std::string s = label_;
  if (total_steps_ > 0) {
    const double frac = std::clamp(double(step_) / double(total_steps_), 0.0, 1.0);
    const int w = std::max(opt_.bar_width, 1);
    const int full = int(frac * w);
    s += fmt::format(" {}/{} [{}{}] {:3.0f}%", step_, total_steps_, std::string(full, '#'),
                     std::string(w - full, '-'), frac * 100);
  } else {
    s += fmt::format(" step {}", step_);
  }
  s += fmt::format(" | {} tok/s (avg {})", format_si(ema_tok_s_), format_si(overall_tok_s()));
  if (finished_) {
    s += " | done in " + format_hms(t_prev_ - t0_);
  } else {
    double eta = NAN;
    if (total_tokens_ > 0 && ema_tok_s_ > 0)
      eta = double(std::max<int64_t>(total_tokens_ - tokens_, 0)) / ema_tok_s_;
    else if (total_tokens_ <= 0 && total_steps_ > 0 && ema_step_s_ > 0)
      eta = double(std::max<int64_t>(total_steps_ - step_, 0)) / ema_step_s_;
    s += " | ETA " + format_hms(eta);
  }
  if (std::isfinite(loss_)) s += fmt::format(" | loss {:.4f}", loss_);
  if (!extra_.empty()) s += " | " + extra_;
  return s;
}

void ProgressBar::draw(bool final) {
  const std::string s = line();
  if (tty_) {
    // "\x1b[K" clears what a longer previous line left to the right.
    std::fprintf(opt_.out, "\r%s\x1b[K%s", s.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(opt_.out, "%s\n", s.c_str());
  }
  std::fflush(opt_.out);
  drawn_ = true;
}

}  // namespace radlads
