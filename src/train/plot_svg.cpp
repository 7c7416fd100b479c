// make_plot, layout_plot (ranges and "nice" 1-2-5 ticks) and render_svg.
#include "train/plot_svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <optional>

#include "core/error.h"

namespace radlads {

namespace {

using nlohmann::json;

// matplotlib's tab10: distinct, colour-blind-tolerant, familiar from papers.
constexpr uint32_t kPalette[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Per-layer curves are many; a paler shade keeps the phase curves on top visually.
uint32_t pale(uint32_t rgb) {
  uint32_t out = 0;
  for (int sh = 0; sh <= 16; sh += 8) out |= ((((rgb >> sh) & 0xFF) + 0xFF) / 2) << sh;
  return out;
}

// A metric value: a number, NaN for null (a NaN the trainer logged), or
// nothing when the field is absent (the record does not carry this metric).
std::optional<double> value_of(const json& r, const std::string& key) {
  auto it = r.find(key);
  if (it == r.end()) return std::nullopt;
  if (it->is_number()) return it->get<double>();
  if (it->is_null()) return kNaN;
  return std::nullopt;
}

bool shown(double y, bool log_y) { return std::isfinite(y) && (!log_y || y > 0); }

double nice_step(double range, int target) {
  const double raw = range / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double n = raw / mag;
  return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
}

// Tick values step apart, labelled with the fewest decimals that tell them
// apart and a k/M/G unit once numbers get long (token counts).
std::vector<std::pair<double, std::string>> linear_ticks(double lo, double hi, double step) {
  std::vector<std::pair<double, std::string>> out;
  const double top = std::max(std::abs(lo), std::abs(hi));
  const double unit = top >= 1e9 ? 1e9 : top >= 1e6 ? 1e6 : top >= 1e4 ? 1e3 : 1;
  const char* suffix = unit == 1e9 ? "G" : unit == 1e6 ? "M" : unit == 1e3 ? "k" : "";
  const int decimals = std::max(0, int(-std::floor(std::log10(step / unit) + 1e-9)));
  const double first = std::ceil(lo / step - 1e-9);
  for (int i = 0;; ++i) {
    double v = (first + i) * step;  // multiplied, not accumulated: no drift
    if (v > hi + step * 1e-9) break;
    if (std::abs(v) < step * 1e-6) {
      out.emplace_back(0.0, "0");  // no "-0", no "0.0M"
      continue;
    }
    std::string s = fmt::format("{:.{}f}", v / unit, decimals);
    // Matplotlib style: 0.5M, 1M, 1.5M rather than 1.0M.
    if (s.find('.') != std::string::npos) {
      s.erase(s.find_last_not_of('0') + 1);
      if (s.back() == '.') s.pop_back();
    }
    out.emplace_back(v, s + suffix);
  }
  return out;
}

}  // namespace

double PlotFrame::py(double y) const {
  if (log_y) {
    if (!(y > 0)) return kNaN;
    y = std::log10(y);
  }
  return bottom - (y - y0) / (y1 - y0) * (bottom - top);
}

PlotSpec make_plot(const std::vector<json>& records, const PlotOptions& opt,
                   const std::string& source) {
  if (records.empty()) fail("{}: empty metrics log", source);
  PlotSpec spec;
  spec.log_y = opt.log_y;
  spec.x_label = opt.x;
  spec.y_label = opt.metric + (opt.log_y ? " (log scale)" : "");
  spec.title = opt.title.empty() ? fmt::format("{} vs {}", opt.metric, opt.x) : opt.title;

  std::map<std::string, size_t> index;
  auto series = [&](const std::string& name, bool thin, uint32_t rgb) -> PlotSeries& {
    auto [it, fresh] = index.emplace(name, spec.series.size());
    if (fresh) spec.series.push_back({name, rgb, thin, {}, {}});
    return spec.series[it->second];
  };
  size_t phases = 0;
  double last_x = 0;  // where the latest training record was
  for (const json& r : records) {
    auto p = r.find("phase");
    const std::string phase = p != r.end() && p->is_string() ? p->get<std::string>() : "?";
    std::optional<double> x = value_of(r, opt.x);
    // Eval records carry no step or token count: they sit where training
    // stood when they ran (0 for the evaluation before any training).
    if (!x && phase == "eval") x = last_x;
    if (!x || !std::isfinite(*x)) continue;
    last_x = *x;
    if (const std::optional<double> y = value_of(r, opt.metric)) {
      const bool fresh = !index.count(phase);
      PlotSeries& s = series(phase, false, kPalette[phases % std::size(kPalette)]);
      if (fresh) ++phases;
      s.x.push_back(*x);
      s.y.push_back(*y);
    }
    auto ll = r.find("layer_loss");
    if (opt.layers && ll != r.end() && ll->is_array()) {
      for (size_t l = 0; l < ll->size(); ++l) {
        const json& v = (*ll)[l];
        PlotSeries& s = series(fmt::format("{} L{}", phase, l), true,
                               pale(kPalette[l % std::size(kPalette)]));
        s.x.push_back(*x);
        s.y.push_back(v.is_number() ? v.get<double>() : kNaN);
      }
    }
  }
  std::erase_if(spec.series, [&](const PlotSeries& s) {
    return std::none_of(s.y.begin(), s.y.end(), [&](double y) { return shown(y, opt.log_y); });
  });
  if (spec.series.empty())
    fail("{}: no {}'{}' values to plot against '{}'", source, opt.log_y ? "positive " : "",
         opt.metric, opt.x);
  // Draw thin per-layer curves first so the phase curves stay on top.
  std::stable_partition(spec.series.begin(), spec.series.end(),
                        [](const PlotSeries& s) { return s.thin; });
  return spec;
}

PlotFrame layout_plot(const PlotSpec& spec, int width, int height) {
  PlotFrame f;
  f.width = width, f.height = height, f.log_y = spec.log_y;
  // Room for 8-character tick labels on the left, the title above, tick
  // labels and the axis label below.
  f.left = 100, f.top = 56, f.right = width - 36.0, f.bottom = height - 64.0;

  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (const PlotSeries& s : spec.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!shown(s.y[i], spec.log_y)) continue;
      const double y = spec.log_y ? std::log10(s.y[i]) : s.y[i];
      xlo = std::min(xlo, s.x[i]), xhi = std::max(xhi, s.x[i]);
      ylo = std::min(ylo, y), yhi = std::max(yhi, y);
    }
  // A flat or single-point curve still needs a non-empty range.
  if (xhi - xlo <= 0) xlo -= 1, xhi += 1;
  if (yhi - ylo <= 0) {
    const double d = std::max(std::abs(yhi) * 0.1, spec.log_y ? 0.05 : 1e-3);
    ylo -= d, yhi += d;
  }
  const double pad = (yhi - ylo) * 0.05;
  ylo -= pad, yhi += pad;

  // x snaps outwards to whole ticks: token axes read best from a round start.
  const double xs = nice_step(xhi - xlo, 6);
  f.x0 = std::floor(xlo / xs + 1e-9) * xs, f.x1 = std::ceil(xhi / xs - 1e-9) * xs;
  f.y0 = ylo, f.y1 = yhi;
  for (auto& [v, label] : linear_ticks(f.x0, f.x1, xs)) f.x_ticks.push_back({f.px(v), label});

  if (!spec.log_y) {
    for (auto& [v, label] : linear_ticks(ylo, yhi, nice_step(yhi - ylo, 6)))
      f.y_ticks.push_back({f.py(v), label});
    return f;
  }
  // Log axis: 1-2-5 per decade when the range is short, decades when long.
  const bool fine = yhi - ylo <= 2.5;
  for (int k = int(std::floor(ylo)); k <= int(std::ceil(yhi)); ++k)
    for (double m : fine ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
      const double v = m * std::pow(10.0, k);
      if (std::log10(v) >= ylo && std::log10(v) <= yhi) f.y_ticks.push_back({f.py(v), fmt::format("{:g}", v)});
    }
  if (f.y_ticks.size() < 3) {  // under a factor of ~2.5: linear values, log positions
    f.y_ticks.clear();
    const double lo = std::pow(10.0, ylo), hi = std::pow(10.0, yhi);
    for (auto& [v, label] : linear_ticks(lo, hi, nice_step(hi - lo, 5)))
      if (v > 0) f.y_ticks.push_back({f.py(v), label});
  }
  return f;
}

std::vector<const PlotSeries*> legend_entries(const PlotSpec& spec, bool* has_thin) {
  std::vector<const PlotSeries*> out;
  *has_thin = false;
  for (const PlotSeries& s : spec.series) {
    if (s.thin)
      *has_thin = true;
    else
      out.push_back(&s);
  }
  return out;
}

namespace {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// "M x y L x y ..." with a new M after each gap; a lone point becomes a
// zero-length segment, which round caps draw as a dot.
std::string path_data(const PlotSeries& s, const PlotFrame& f) {
  std::string d;
  bool pen = false, lone = false;
  for (size_t i = 0; i < s.x.size(); ++i) {
    const double y = f.py(s.y[i]);
    if (!std::isfinite(y)) {
      if (lone) d += " h0";
      pen = lone = false;
      continue;
    }
    d += fmt::format("{}{:.1f} {:.1f}", pen ? " L" : (d.empty() ? "M" : " M"), f.px(s.x[i]), y);
    lone = !pen;
    pen = true;
  }
  if (lone) d += " h0";
  return d;
}

}  // namespace

std::string render_svg(const PlotSpec& spec, int width, int height) {
  const PlotFrame f = layout_plot(spec, width, height);
  std::string o = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
      "<clipPath id=\"plot\"><rect x=\"{2}\" y=\"{3}\" width=\"{4}\" height=\"{5}\"/></clipPath>\n",
      width, height, f.left, f.top, f.right - f.left, f.bottom - f.top);
  o += fmt::format("<text x=\"{}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">{}</text>\n",
                   width / 2, xml_escape(spec.title));
  for (const PlotTick& t : f.x_ticks)
    o += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#e5e5e5\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        t.pos, f.top, f.bottom + 5, f.bottom + 20, xml_escape(t.label));
  for (const PlotTick& t : f.y_ticks)
    o += fmt::format(
        "<line x1=\"{1}\" y1=\"{0:.1f}\" x2=\"{2}\" y2=\"{0:.1f}\" stroke=\"#e5e5e5\"/>"
        "<text x=\"{3}\" y=\"{0:.1f}\" text-anchor=\"end\" dominant-baseline=\"middle\">{4}</text>\n",
        t.pos, f.left - 5, f.right, f.left - 8, xml_escape(t.label));
  o += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n",
                   f.left, f.top, f.right - f.left, f.bottom - f.top);
  o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                   (f.left + f.right) / 2, height - 20, xml_escape(spec.x_label));
  o += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", f.left, f.top - 10, xml_escape(spec.y_label));

  o += "<g clip-path=\"url(#plot)\" fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\">\n";
  for (const PlotSeries& s : spec.series)
    o += fmt::format("<path stroke=\"#{:06x}\" stroke-width=\"{}\" d=\"{}\"><title>{}</title></path>\n",
                     s.rgb, s.thin ? 1 : 2, path_data(s, f), xml_escape(s.name));
  o += "</g>\n";

  bool has_thin = false;
  const std::vector<const PlotSeries*> legend = legend_entries(spec, &has_thin);
  const size_t rows = legend.size() + (has_thin ? 1 : 0);
  const double lx = f.right - 150, ly = f.top + 10;
  o += fmt::format("<g><rect x=\"{}\" y=\"{}\" width=\"140\" height=\"{}\" fill=\"white\" stroke=\"#999\"/>\n",
                   lx, ly, 18 * rows + 8);
  for (size_t i = 0; i < rows; ++i) {
    const double y = ly + 16 + 18 * double(i);
    const bool thin_row = i == legend.size();
    const uint32_t rgb = thin_row ? 0xaaaaaa : legend[i]->rgb;
    o += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#{3:06x}\" stroke-width=\"{4}\"/>"
        "<text x=\"{5}\" y=\"{1}\" dominant-baseline=\"middle\">{6}</text>\n",
        lx + 8, y, lx + 32, rgb, thin_row ? 1 : 2, lx + 40,
        xml_escape(thin_row ? std::string("per-layer") : legend[i]->name));
  }
  o += "</g>\n</svg>\n";
  return o;
}

}  // namespace radlads
