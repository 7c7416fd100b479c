// rasterize_plot (same layout as render_svg) and a minimal PNG encoder.
#include "train/plot_png.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <iterator>
#include <string>

#include "core/error.h"

namespace radlads {

namespace {

// 5x7 glyphs, one byte per row, bit 4 = leftmost column. Lower case is drawn
// as upper case and anything else missing as '?': tick labels, phase names
// and metric names need no more, and the table stays reviewable.
constexpr char kGlyphChars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.,-+/:()_%=[]?<>'& ";
constexpr uint8_t kGlyphs[][7] = {
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},  // 0 1
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},  // 2 3
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},  // 4 5
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},  // 6 7
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},  // 8 9
    {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}, {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E},  // A B
    {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}, {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C},  // C D
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}, {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10},  // E F
    {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}, {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},  // G H
    {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}, {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C},  // I J
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}, {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F},  // K L
    {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}, {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},  // M N
    {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10},  // O P
    {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}, {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11},  // Q R
    {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}, {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},  // S T
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04},  // U V
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}, {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11},  // W X
    {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F},  // Y Z
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}, {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08},  // . ,
    {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}, {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00},  // - +
    {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}, {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00},  // / :
    {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}, {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08},  // ( )
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}, {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03},  // _ %
    {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}, {0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E},  // = [
    {0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E}, {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04},  // ] ?
    {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}, {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08},  // < >
    {0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00}, {0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D},  // ' &
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},                                              // space
};
static_assert(std::size(kGlyphs) == std::size(kGlyphChars) - 1, "one glyph per character");

constexpr int kScale = 2;            // 5x7 glyphs doubled: 10x14, readable at 900 px
constexpr int kAdvance = 6 * kScale;  // glyph plus one column of space

const uint8_t* glyph(char c) {
  const char u = char(std::toupper(static_cast<unsigned char>(c)));
  const char* p = std::strchr(kGlyphChars, u);
  if (!p || u == '\0') p = std::strchr(kGlyphChars, '?');
  return kGlyphs[p - kGlyphChars];
}

struct Canvas {
  RgbImage& img;
  // Pixels outside the clip rectangle are not drawn (curves stay in the plot).
  int cx0 = 0, cy0 = 0, cx1 = 1 << 30, cy1 = 1 << 30;

  void set(int x, int y, uint32_t rgb) {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    if (x < cx0 || y < cy0 || x > cx1 || y > cy1) return;
    uint8_t* p = &img.rgb[(size_t(y) * img.width + x) * 3];
    p[0] = uint8_t(rgb >> 16), p[1] = uint8_t(rgb >> 8), p[2] = uint8_t(rgb);
  }
  void fill(int x0, int y0, int x1, int y1, uint32_t rgb) {
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) set(x, y, rgb);
  }
  // Bresenham with a width x width square brush: exact colours (no blending),
  // which keeps the image crisp and lets tests find a curve's colour.
  void line(int x0, int y0, int x1, int y1, uint32_t rgb, int width) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
      fill(x0, y0, x0 + width - 1, y0 + width - 1, rgb);
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) err += dy, x0 += sx;
      if (e2 <= dx) err += dx, y0 += sy;
    }
  }
  // align: 0 left, 1 centre, 2 right of x; y is the vertical centre.
  void text(double x, double y, const std::string& s, uint32_t rgb, int align) {
    const int w = int(s.size()) * kAdvance - kScale;
    int left = int(std::lround(x)) - (align == 1 ? w / 2 : align == 2 ? w : 0);
    const int top = int(std::lround(y)) - 7 * kScale / 2;
    for (char c : s) {
      const uint8_t* g = glyph(c);
      for (int r = 0; r < 7; ++r)
        for (int col = 0; col < 5; ++col)
          if (g[r] & (0x10 >> col))
            fill(left + col * kScale, top + r * kScale, left + col * kScale + kScale - 1,
                 top + r * kScale + kScale - 1, rgb);
      left += kAdvance;
    }
  }
};

int px(double v) { return int(std::lround(v)); }

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int sh = 24; sh >= 0; sh -= 8) out.push_back(uint8_t(v >> sh));
}

void put_chunk(std::vector<uint8_t>& out, const char type[4], const uint8_t* data, size_t n) {
  put_u32(out, uint32_t(n));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data, data + n);
  // The CRC covers the chunk type and data, not the length (PNG spec 5.3).
  put_u32(out, uint32_t(crc32(0L, out.data() + start, uInt(4 + n))));
}

}  // namespace

RgbImage rasterize_plot(const PlotSpec& spec, int width, int height) {
  const PlotFrame f = layout_plot(spec, width, height);
  RgbImage img{width, height, std::vector<uint8_t>(size_t(width) * height * 3, 0xFF)};
  Canvas c{img};
  const int l = px(f.left), t = px(f.top), r = px(f.right), b = px(f.bottom);

  c.text(width / 2.0, 26, spec.title, 0x000000, 1);
  for (const PlotTick& k : f.x_ticks) {
    c.line(px(k.pos), t, px(k.pos), b, 0xe5e5e5, 1);
    c.line(px(k.pos), b, px(k.pos), b + 5, 0x000000, 1);
    c.text(k.pos, b + 18, k.label, 0x000000, 1);
  }
  for (const PlotTick& k : f.y_ticks) {
    c.line(l, px(k.pos), r, px(k.pos), 0xe5e5e5, 1);
    c.line(l - 5, px(k.pos), l, px(k.pos), 0x000000, 1);
    c.text(l - 8, k.pos, k.label, 0x000000, 2);
  }
  c.text((f.left + f.right) / 2, height - 20, spec.x_label, 0x000000, 1);
  c.text(f.left, f.top - 14, spec.y_label, 0x000000, 0);

  c.cx0 = l + 1, c.cy0 = t + 1, c.cx1 = r - 1, c.cy1 = b - 1;
  for (const PlotSeries& s : spec.series) {
    const int w = s.thin ? 1 : 2;
    bool pen = false;
    int x0 = 0, y0 = 0;
    for (size_t i = 0; i < s.x.size(); ++i) {
      const double y = f.py(s.y[i]);
      if (!std::isfinite(y)) {
        pen = false;  // a gap in the data is a gap in the line
        continue;
      }
      const int x1 = px(f.px(s.x[i])), y1 = px(y);
      c.line(pen ? x0 : x1, pen ? y0 : y1, x1, y1, s.rgb, w);
      x0 = x1, y0 = y1, pen = true;
    }
  }
  c.cx0 = 0, c.cy0 = 0, c.cx1 = 1 << 30, c.cy1 = 1 << 30;
  // The frame last, so curves touching the range ends do not hide it.
  c.line(l, t, r, t, 0, 1), c.line(r, t, r, b, 0, 1), c.line(r, b, l, b, 0, 1), c.line(l, b, l, t, 0, 1);

  bool has_thin = false;
  const std::vector<const PlotSeries*> legend = legend_entries(spec, &has_thin);
  const int rows = int(legend.size()) + (has_thin ? 1 : 0);
  size_t chars = has_thin ? 9 : 0;
  for (const PlotSeries* s : legend) chars = std::max(chars, s->name.size());
  const int lw = 48 + int(chars) * kAdvance, lx = r - lw - 10, ly = t + 10;
  c.fill(lx, ly, lx + lw, ly + 22 * rows + 8, 0xFFFFFF);
  c.line(lx, ly, lx + lw, ly, 0x999999, 1), c.line(lx + lw, ly, lx + lw, ly + 22 * rows + 8, 0x999999, 1);
  c.line(lx, ly + 22 * rows + 8, lx + lw, ly + 22 * rows + 8, 0x999999, 1), c.line(lx, ly, lx, ly + 22 * rows + 8, 0x999999, 1);
  for (int i = 0; i < rows; ++i) {
    const int y = ly + 15 + 22 * i;
    const bool thin_row = i == int(legend.size());
    c.line(lx + 8, y, lx + 32, y, thin_row ? 0xaaaaaa : legend[i]->rgb, thin_row ? 1 : 2);
    c.text(lx + 40, y, thin_row ? std::string("per-layer") : legend[i]->name, 0x000000, 0);
  }
  return img;
}

std::vector<uint8_t> encode_png(const RgbImage& img) {
  CHECK(img.width > 0 && img.height > 0 && img.rgb.size() == size_t(img.width) * img.height * 3,
        "bad image {}x{}", img.width, img.height);
  // Filter type 0 (none) on every row: plots are mostly flat colour, which
  // deflate already squeezes well.
  const size_t row = size_t(img.width) * 3;
  std::vector<uint8_t> raw;
  raw.reserve((row + 1) * img.height);
  for (int y = 0; y < img.height; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), img.rgb.begin() + y * row, img.rgb.begin() + (y + 1) * row);
  }
  uLongf zlen = compressBound(uLong(raw.size()));
  std::vector<uint8_t> z(zlen);
  const int rc = compress2(z.data(), &zlen, raw.data(), uLong(raw.size()), Z_BEST_COMPRESSION);
  if (rc != Z_OK) fail("png: zlib compress2 failed ({})", rc);
  z.resize(zlen);

  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32(ihdr, uint32_t(img.width));
  put_u32(ihdr, uint32_t(img.height));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit, truecolour RGB, deflate, no filter set, no interlace
  put_chunk(out, "IHDR", ihdr.data(), ihdr.size());
  put_chunk(out, "IDAT", z.data(), z.size());
  put_chunk(out, "IEND", nullptr, 0);
  return out;
}

}  // namespace radlads
