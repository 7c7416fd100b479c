// Plots of a metrics log: series per phase, a well-formed SVG, a PNG that
// decodes (CRCs, inflated size, curve colours present), and `radlads plot`
// errors with exit status 2.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "test_util.h"
#include "train/metrics_log.h"
#include "train/plot_png.h"
#include "train/plot_svg.h"

namespace radlads {
namespace {

using nlohmann::json;

// 20 align steps with 3 per-layer losses, an eval, 20 distill steps (one NaN).
std::vector<json> sample_records() {
  std::vector<json> rs;
  rs.push_back({{"phase", "eval"}, {"of", "init"}, {"heldout_kl", 4.0}});
  for (int s = 1; s <= 20; ++s)
    rs.push_back({{"phase", "align"}, {"step", s}, {"tokens", s * 4096}, {"loss", 2.0 / s},
                  {"layer_loss", {1.0 / s, 0.5 / s, 0.25 / s}}});
  rs.push_back({{"phase", "eval"}, {"of", "align"}, {"heldout_kl", 2.0}});
  for (int s = 1; s <= 20; ++s)
    rs.push_back({{"phase", "distill"}, {"step", s}, {"tokens", s * 8192},
                  {"loss", s == 10 ? json(nullptr) : json(3.0 - 0.1 * s)}});
  rs.push_back({{"phase", "eval"}, {"of", "distill"}, {"heldout_kl", 0.5}});
  return rs;
}

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// Tags balance: every <name ...> is closed by </name> in order, <.../> and
// <?...?> stand alone, and no text holds a raw '<' or '&' outside an entity.
::testing::AssertionResult well_formed(const std::string& x) {
  if (x.rfind("<?xml", 0) != 0) return ::testing::AssertionFailure() << "no XML declaration";
  std::vector<std::string> stack;
  size_t root = 0;
  for (size_t i = 0; i < x.size();) {
    if (x[i] == '&') {
      const size_t semi = x.find(';', i);
      const std::string ent = x.substr(i, semi == std::string::npos ? 8 : semi - i + 1);
      if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;")
        return ::testing::AssertionFailure() << "bad entity at " << i << ": " << ent;
    }
    if (x[i] != '<') {
      ++i;
      continue;
    }
    const size_t end = x.find('>', i);
    if (end == std::string::npos) return ::testing::AssertionFailure() << "unclosed tag at " << i;
    const std::string tag = x.substr(i + 1, end - i - 1);
    if (tag.find('<') != std::string::npos) return ::testing::AssertionFailure() << "'<' inside tag at " << i;
    i = end + 1;
    if (tag[0] == '?') continue;
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1))
        return ::testing::AssertionFailure() << "mismatched </" << tag.substr(1) << ">";
      stack.pop_back();
      continue;
    }
    if (stack.empty()) ++root;
    if (tag.back() == '/') continue;
    stack.push_back(tag.substr(0, tag.find_first_of(" \n")));
  }
  if (!stack.empty()) return ::testing::AssertionFailure() << "unclosed <" << stack.back() << ">";
  if (root != 1) return ::testing::AssertionFailure() << root << " root elements";
  if (x.find("</svg>") == std::string::npos) return ::testing::AssertionFailure() << "no </svg>";
  return ::testing::AssertionSuccess();
}

TEST(Plot, SeriesPerPhase) {
  const std::vector<json> rs = sample_records();
  PlotSpec spec = make_plot(rs, {}, "m.jsonl");
  ASSERT_EQ(spec.series.size(), 2u);  // eval records carry no loss
  EXPECT_EQ(spec.series[0].name, "align");
  EXPECT_EQ(spec.series[1].name, "distill");
  EXPECT_NE(spec.series[0].rgb, spec.series[1].rgb);
  EXPECT_EQ(spec.series[1].x.size(), 20u);
  EXPECT_TRUE(std::isnan(spec.series[1].y[9]));  // the null loss breaks the line
  EXPECT_EQ(spec.series[0].x.back(), 20.0 * 4096);

  PlotOptions o;
  o.x = "step", o.layers = true;
  spec = make_plot(rs, o, "m.jsonl");
  ASSERT_EQ(spec.series.size(), 5u);
  EXPECT_TRUE(spec.series[0].thin);  // drawn first, under the phase curves
  EXPECT_EQ(spec.series[2].name, "align L2");
  EXPECT_EQ(spec.series[3].x.back(), 20.0);

  // Evals sit where training stood: 0 before any step, then the last x.
  o = {};
  o.metric = "heldout_kl";
  spec = make_plot(rs, o, "m.jsonl");
  ASSERT_EQ(spec.series.size(), 1u);
  EXPECT_EQ(spec.series[0].x, (std::vector<double>{0, 20 * 4096, 20 * 8192}));

  try {
    make_plot({}, {}, "empty.jsonl");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty.jsonl"), std::string::npos) << e.what();
  }
  o.metric = "nonexistent";
  EXPECT_THROW(make_plot(rs, o, "m.jsonl"), Error);
  o.metric = "loss", o.log_y = true;
  EXPECT_THROW(make_plot({{{"phase", "align"}, {"tokens", 1}, {"loss", -1.0}}}, o, "m.jsonl"), Error);
}

TEST(Plot, Ticks) {
  PlotSpec spec = make_plot(sample_records(), {}, "m.jsonl");
  PlotFrame f = layout_plot(spec, 900, 560);
  ASSERT_GE(f.x_ticks.size(), 3u);
  EXPECT_EQ(f.x0, 0.0);  // snapped to a round start
  EXPECT_GE(f.x1, 20.0 * 8192);
  EXPECT_EQ(f.x_ticks.back().label.back(), 'k');  // 160k tokens read as "160k"
  for (const PlotTick& t : f.x_ticks) EXPECT_TRUE(t.pos >= f.left - 1e-9 && t.pos <= f.right + 1e-9);
  ASSERT_GE(f.y_ticks.size(), 3u);
  for (size_t i = 1; i < f.y_ticks.size(); ++i) EXPECT_LT(f.y_ticks[i].pos, f.y_ticks[i - 1].pos);

  PlotOptions o;
  o.log_y = true;
  spec = make_plot(sample_records(), o, "m.jsonl");  // 0.1 .. 2.9: 1-2-5 ticks
  f = layout_plot(spec, 900, 560);
  std::vector<std::string> labels;
  for (const PlotTick& t : f.y_ticks) labels.push_back(t.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"0.1", "0.2", "0.5", "1", "2"}));
  EXPECT_TRUE(std::isnan(f.py(0.0)));
}

TEST(Plot, SvgWellFormed) {
  PlotOptions o;
  o.title = "run <a> & \"b\"";
  const std::string svg = render_svg(make_plot(sample_records(), o, "m.jsonl"));
  EXPECT_TRUE(well_formed(svg)) << svg.substr(0, 400);
  EXPECT_EQ(count_of(svg, "<path"), 2u);
  EXPECT_NE(svg.find("stroke=\"#1f77b4\""), std::string::npos);
  EXPECT_NE(svg.find("run &lt;a&gt; &amp; &quot;b&quot;"), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  // The NaN splits the distill path into two subpaths.
  const size_t d = svg.find("<path", svg.find("<path") + 1);
  EXPECT_EQ(count_of(svg.substr(d, svg.find("</path>", d) - d), "M"), 2u);

  o.layers = true, o.log_y = true;
  const std::string with_layers = render_svg(make_plot(sample_records(), o, "m.jsonl"));
  EXPECT_TRUE(well_formed(with_layers));
  EXPECT_EQ(count_of(with_layers, "<path"), 5u);
  EXPECT_NE(with_layers.find(">per-layer<"), std::string::npos);
}

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

// Checks the PNG structure and returns the inflated scanlines.
std::vector<uint8_t> decode_png(const std::vector<uint8_t>& png, uint32_t* w, uint32_t* h) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  EXPECT_TRUE(png.size() > 8 && std::equal(sig, sig + 8, png.begin()));
  std::vector<uint8_t> idat;
  std::vector<std::string> types;
  for (size_t p = 8; p + 12 <= png.size();) {
    const uint32_t n = be32(&png[p]);
    EXPECT_LE(p + 12 + n, png.size());
    if (p + 12 + n > png.size()) break;
    const std::string type(png.begin() + p + 4, png.begin() + p + 8);
    EXPECT_EQ(uint32_t(crc32(0, &png[p + 4], 4 + n)), be32(&png[p + 8 + n])) << type;
    if (type == "IHDR") {
      *w = be32(&png[p + 8]), *h = be32(&png[p + 12]);
      EXPECT_EQ(png[p + 16], 8);  // bit depth
      EXPECT_EQ(png[p + 17], 2);  // RGB
    }
    if (type == "IDAT") idat.insert(idat.end(), &png[p + 8], &png[p + 8] + n);
    types.push_back(type);
    p += 12 + n;
  }
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  std::vector<uint8_t> raw((size_t(*w) * 3 + 1) * *h);
  uLongf len = raw.size();
  EXPECT_EQ(uncompress(raw.data(), &len, idat.data(), idat.size()), Z_OK);
  EXPECT_EQ(len, raw.size());  // exactly (width*3 + 1) * height
  return raw;
}

bool has_colour(const std::vector<uint8_t>& raw, uint32_t w, uint32_t h, uint32_t rgb) {
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x) {
      const uint8_t* p = &raw[y * (w * 3 + 1) + 1 + x * 3];
      if ((uint32_t(p[0]) << 16 | p[1] << 8 | p[2]) == rgb) return true;
    }
  return false;
}

TEST(Plot, PngDecodes) {
  const PlotSpec spec = make_plot(sample_records(), {}, "m.jsonl");
  const std::vector<uint8_t> png = encode_png(rasterize_plot(spec, 640, 400));
  uint32_t w = 0, h = 0;
  const std::vector<uint8_t> raw = decode_png(png, &w, &h);
  ASSERT_EQ(w, 640u);
  ASSERT_EQ(h, 400u);
  for (uint32_t y = 0; y < h; ++y) ASSERT_EQ(raw[y * (w * 3 + 1)], 0) << "filter byte, row " << y;
  EXPECT_TRUE(has_colour(raw, w, h, spec.series[0].rgb));  // align curve
  EXPECT_TRUE(has_colour(raw, w, h, spec.series[1].rgb));  // distill curve
  EXPECT_TRUE(has_colour(raw, w, h, 0x000000));            // axes and text
  EXPECT_FALSE(has_colour(raw, w, h, 0x17becf));           // a palette colour no series uses
}

TEST(Plot, Cli) {
  test::TempDir d;
  const std::string log = d.file("m.jsonl");
  {
    MetricsLog m(log, false);
    for (const json& r : sample_records()) m.append(r);
  }
  test::RunResult r = test::run_cli("plot " + log + " --out " + d.file("p.svg") + " --layers");
  ASSERT_EQ(r.status, 0) << r.out;
  std::ifstream in(d.file("p.svg"));
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_TRUE(well_formed(ss.str()));
  EXPECT_EQ(count_of(ss.str(), "<path"), 5u);

  r = test::run_cli("plot " + log + " --out " + d.file("p.png") + " --x step --log-y --metric loss");
  ASSERT_EQ(r.status, 0) << r.out;
  std::ifstream pin(d.file("p.png"), std::ios::binary);
  std::vector<uint8_t> png((std::istreambuf_iterator<char>(pin)), std::istreambuf_iterator<char>());
  uint32_t w = 0, h = 0;
  decode_png(png, &w, &h);
  EXPECT_EQ(w, 900u);

  r = test::run_cli("plot " + log + " --out " + d.file("p.jpg"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("p.jpg"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(d.file("p.jpg")));

  const std::string bad = d.file("bad.jsonl");
  std::ofstream(bad) << "{\"phase\":\"align\",\"step\":1,\"tokens\":1,\"loss\":1}\nnot json\n{}\n";
  r = test::run_cli("plot " + bad + " --out " + d.file("b.svg"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find(bad + ":2:"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;  // one line
  EXPECT_FALSE(std::filesystem::exists(d.file("b.svg")));

  const std::string empty = d.file("empty.jsonl");
  std::ofstream(empty).flush();
  r = test::run_cli("plot " + empty + " --out " + d.file("e.svg"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find(empty), std::string::npos) << r.out;

  r = test::run_cli("plot " + d.file("missing.jsonl") + " --out " + d.file("e.svg"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("missing.jsonl"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace radlads
