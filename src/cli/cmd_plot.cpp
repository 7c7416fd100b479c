// radlads plot LOG.jsonl --out FILE.svg|FILE.png [--metric M] [--x tokens|step]
// [--log-y] [--layers] [--title S] [--width W --height H]: draws the training
// curves of a metrics log, one line per phase, written atomically.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/command.h"
#include "core/error.h"
#include "core/file_io.h"
#include "train/metrics_log.h"
#include "train/plot_png.h"
#include "train/plot_svg.h"

namespace radlads::cli {

namespace {
struct PlotCommandOptions {
  std::string log, out;
  PlotOptions plot;
  int width = 900, height = 560;
};
}  // namespace

static CommandRegistration reg("plot", "Plot the training curves of a metrics log (SVG or PNG)", [](CLI::App& app) {
  auto o = std::make_shared<PlotCommandOptions>();
  app.add_option("log", o->log, "Metrics log (JSONL) written by training")->required();
  app.add_option("--out", o->out, "Output file: .svg or .png")->required();
  app.add_option("--metric", o->plot.metric, "Record field to plot (loss, lr, grad_norm, heldout_kl, ...)")
      ->capture_default_str();
  app.add_option("--x", o->plot.x, "x axis")->check(CLI::IsMember({"tokens", "step"}))->capture_default_str();
  app.add_flag("--log-y", o->plot.log_y, "Logarithmic y axis");
  app.add_flag("--layers", o->plot.layers, "Also draw the per-layer align losses as thin lines");
  app.add_option("--title", o->plot.title, "Title (default: '<metric> vs <x>')");
  app.add_option("--width", o->width, "Image width in pixels")->check(CLI::Range(320, 8000))->capture_default_str();
  app.add_option("--height", o->height, "Image height in pixels")->check(CLI::Range(240, 8000))->capture_default_str();
  return [o](const ExecContext& ctx) {
    // Checked before any work so a typo costs nothing and writes nothing.
    const std::string ext = std::filesystem::path(o->out).extension().string();
    if (ext != ".svg" && ext != ".png") fail("{}: unknown output extension '{}' (use .svg or .png)", o->out, ext);
    const PlotSpec spec = make_plot(read_metrics(o->log), o->plot, o->log);
    if (ext == ".svg") {
      const std::string svg = render_svg(spec, o->width, o->height);
      write_file_atomic(o->out, [&](std::FILE* f) { write_bytes(f, svg.data(), svg.size(), o->out); });
    } else {
      const std::vector<uint8_t> png = encode_png(rasterize_plot(spec, o->width, o->height));
      write_file_atomic(o->out, [&](std::FILE* f) { write_bytes(f, png.data(), png.size(), o->out); });
    }
    std::printf("wrote %s (%zu series)\n", o->out.c_str(), spec.series.size());
    return 0;
  };
});

}  // namespace radlads::cli
