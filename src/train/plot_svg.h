// Loss curves from a metrics log (train/metrics_log.h): the plot itself
// (series per phase, axis ranges, ticks, pixel layout) and its SVG rendering.
// plot_png.h rasterises the same PlotFrame, so both outputs look alike.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace radlads {

struct PlotOptions {
  std::string metric = "loss";  // any numeric record field: loss, lr, grad_norm, heldout_kl...
  std::string x = "tokens";     // "tokens" or "step"
  bool log_y = false;
  bool layers = false;          // also the per-layer "layer_loss" arrays, as thin lines
  std::string title;            // empty: "<metric> vs <x>"
};

struct PlotSeries {
  std::string name;
  uint32_t rgb = 0;   // 0xRRGGBB
  bool thin = false;  // per-layer curves: drawn thin, one shared legend entry
  // Points in record order; a NaN y (null or missing value) breaks the line.
  std::vector<double> x, y;
};

struct PlotSpec {
  std::string title, x_label, y_label;
  bool log_y = false;
  std::vector<PlotSeries> series;
};

// One series per phase holding the metric (in order of first appearance),
// plus per-layer series when asked. An "eval" record without the x field is
// placed at the x of the record before it (0 at the start). Throws Error naming `source` when there
// are no records or no finite value of the metric to plot.
PlotSpec make_plot(const std::vector<nlohmann::json>& records, const PlotOptions& opt,
                   const std::string& source);

struct PlotTick {
  double pos;  // pixel coordinate along its axis
  std::string label;
};

// Where everything goes on a width x height canvas: the plot rectangle, the
// data-to-pixel mapping (log10 applied to y when log_y) and the ticks.
struct PlotFrame {
  int width = 0, height = 0;
  double left = 0, top = 0, right = 0, bottom = 0;  // plot rectangle in pixels
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;            // data range (y in log10 when log_y)
  bool log_y = false;
  std::vector<PlotTick> x_ticks, y_ticks;

  double px(double x) const { return left + (x - x0) / (x1 - x0) * (right - left); }
  // NaN for a value log_y cannot show (<= 0).
  double py(double y) const;
};

PlotFrame layout_plot(const PlotSpec& spec, int width, int height);

// The legend: each non-thin series, then one "per-layer" entry if any is thin.
std::vector<const PlotSeries*> legend_entries(const PlotSpec& spec, bool* has_thin);

// A standalone SVG document (XML text escaped).
std::string render_svg(const PlotSpec& spec, int width = 900, int height = 560);

}  // namespace radlads
