// The plot of plot_svg.h rasterised into an RGB image and encoded as PNG, for
// viewers without SVG (terminals with image support, chat tools, CI
// artifacts). Lines by Bresenham, text in a built-in 5x7 bitmap font
// (upper case only), compression by zlib.
#pragma once

#include <cstdint>
#include <vector>

#include "train/plot_svg.h"

namespace radlads {

// An 8-bit RGB image, rows top to bottom.
struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // (height, width, 3)
};

RgbImage rasterize_plot(const PlotSpec& spec, int width = 900, int height = 560);

// A complete PNG file: signature, IHDR (8-bit RGB), one IDAT, IEND.
std::vector<uint8_t> encode_png(const RgbImage& img);

}  // namespace radlads
