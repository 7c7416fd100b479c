// The communication interface's cost under mpirun: for each buffer size,
// the median time of the gradient exchanges training makes — the rank-order
// all-reduce (replicated AdamW) and ZeRO-1's reduce-scatter + all-gather —
// and the bandwidth per rank they reach (bytes each rank sends per second:
// 2(N−1)/N of the buffer for both, the bound of any all-reduce). Rank 0 prints
// one line per size, or with --json one JSON document, which
// bench/scale_out.sh turns into the scaling projection.
//   mpirun -np N bench_comm [--json] [--max-mb M] [--reps R]
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/sysinfo.h"
#include "engine/comm.h"

using namespace radlads;

namespace {

template <class F>
double median_seconds(Comm& c, int reps, F&& f) {
  std::vector<double> t;
  f();  // warm-up: buffers, connections
  for (int i = 0; i < reps; i++) {
    c.barrier();
    const double t0 = now_seconds();
    f();
    double dt = now_seconds() - t0;
    c.all_reduce_sum(&dt, 1);  // the slowest rank's view is what a step waits for: use the mean as a stable proxy
    t.push_back(dt / c.size());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
#ifndef RADLADS_HAVE_MPI
  (void)argc, (void)argv;
  std::fprintf(stderr, "bench_comm: this build has no MPI\n");
  return 2;
#else
  bool json = false;
  int64_t max_mb = 256;
  int reps = 5;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a == "--max-mb" && i + 1 < argc) max_mb = std::stoll(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::stoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: mpirun -np N bench_comm [--json] [--max-mb M] [--reps R]\n");
      return 2;
    }
  }
  auto comm = make_mpi_comm();
  Comm& c = *comm;
  const int N = c.size();
  nlohmann::json rows = nlohmann::json::array();
  if (!json && c.rank() == 0)
    fmt::print("{} ranks\n{:>10} {:>14} {:>10} {:>22} {:>10}\n", N, "MB", "all-reduce s", "GB/s/rank",
               "reduce-scatter+gather s", "GB/s/rank");
  for (int64_t mb = 1; mb <= max_mb; mb *= 4) {
    const int64_t n = mb * (int64_t(1) << 20) / int64_t(sizeof(float));
    std::vector<float> buf(size_t(n), 1.0f);
    std::vector<int64_t> bounds;
    for (int r = 0; r <= N; r++) bounds.push_back(n * r / N);
    const double t_ar = median_seconds(c, reps, [&] { c.all_reduce_sum(buf.data(), n); });
    const double t_zero = median_seconds(c, reps, [&] {
      c.reduce_scatter_sum(buf.data(), bounds);
      c.all_gather_ranges(buf.data(), bounds);
    });
    // Bytes a rank must send for a whole reduction (the ring bound).
    const double sent = 2.0 * (N - 1) / N * double(n) * sizeof(float);
    rows.push_back({{"bytes", n * int64_t(sizeof(float))},
                    {"all_reduce_s", t_ar},
                    {"reduce_scatter_all_gather_s", t_zero},
                    {"all_reduce_gb_s", sent / t_ar / 1e9},
                    {"zero_gb_s", sent / t_zero / 1e9}});
    if (!json && c.rank() == 0)
      fmt::print("{:>10} {:>14.4f} {:>10.2f} {:>22.4f} {:>10.2f}\n", mb, t_ar, sent / t_ar / 1e9, t_zero,
                 sent / t_zero / 1e9);
  }
  if (json && c.rank() == 0) fmt::print("{}\n", nlohmann::json{{"ranks", N}, {"sizes", rows}}.dump());
  return 0;
#endif
}
