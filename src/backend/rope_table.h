// The rotary position table a model owns and hands to Backend::rope_*:
// cos/sin of pos·θ^(−2i/N) per (position, pair), HF "rotate_half" pairing
// (element i with i + N/2). Kept on the host; a device backend mirrors it.
#pragma once

#include <vector>

namespace radlads {

struct RopeTable {
  int N = 0;
  double theta = 10000.0;
  int n_pos = 0;
  std::vector<float> cos, sin;  // (n_pos, N/2)

  RopeTable(int N, double theta) : N(N), theta(theta) {}
  void ensure(int max_pos);  // grows the table to cover positions < max_pos (at least doubling)
};

}  // namespace radlads
