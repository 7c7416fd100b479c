// The MPI communication interface against its specification, run under
// `mpirun -np 3` by CTest: every collective on data each rank can recompute
// for every other rank, so each rank checks the exact expected bits itself.
// all_reduce_sum must be the rank-order sum 0 + x0 + x1 + x2 (what the
// in-process thread group computes), over a buffer of several chunks, with
// values whose sum depends on the order. Exit 0 when every check holds on
// this rank; otherwise one line per failure and exit 1.
#include <cstdio>
#include <cstring>
#include <vector>

#include "engine/comm.h"

namespace {

template <class F>
F value(int rank, int64_t i) {
  // Large and small terms mixed, so that another summation order rounds differently.
  const int64_t h = (i * 2654435761LL + rank * 40503LL) % 1000003;
  // The product is by a power of two, exact: a fused multiply-add (which the
  // compiler may use in one inlined copy and not another) gives the same bits.
  return F(h) * F(0.0009765625) + ((i + rank) % 3 == 0 ? F(1e7) : F(0)) - (rank == 1 && i % 5 == 0 ? F(1e7) : F(0));
}

int failures = 0;
void check(bool ok, const char* what, int rank) {
  if (!ok) {
    std::fprintf(stderr, "rank %d: %s\n", rank, what);
    failures++;
  }
}

template <class F>
void check_sum(radlads::Comm& c, int64_t n, const char* what) {
  std::vector<F> buf(static_cast<size_t>(n)), want(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) {
    buf[size_t(i)] = value<F>(c.rank(), i);
    F acc = 0;
    for (int r = 0; r < c.size(); r++) acc += value<F>(r, i);
    want[size_t(i)] = acc;
  }
  c.all_reduce_sum(buf.data(), n);
  check(std::memcmp(buf.data(), want.data(), size_t(n) * sizeof(F)) == 0, what, c.rank());
}

}  // namespace

int main() {
  auto comm = radlads::make_mpi_comm();
  radlads::Comm& c = *comm;
  const int R = c.rank(), N = c.size();
  check(N == 3, "expected 3 ranks (mpirun -np 3)", R);
  check_sum<float>(c, (int64_t(3) << 20) + 7, "float all_reduce_sum is not the rank-order sum");
  check_sum<double>(c, (int64_t(1) << 19) + 3, "double all_reduce_sum is not the rank-order sum");
  check_sum<float>(c, 1, "one-element all_reduce_sum");

  // broadcast from rank 1
  std::vector<char> b(1000, char(R));
  c.broadcast(b.data(), b.size(), 1);
  bool all1 = true;
  for (char x : b) all1 = all1 && x == 1;
  check(all1, "broadcast from rank 1", R);

  // ZeRO's collectives over an uneven partition with an empty range, long
  // enough for several rounds of the exchange (each rank stages 32 MiB).
  const int64_t big = (int64_t(5) << 20) + 11;
  const std::vector<int64_t> bounds = {0, big, big, 2 * big + 5};
  if (N == 3) {
    std::vector<float> x(static_cast<size_t>(bounds.back())), y(x.size(), -1.0f);
    for (int64_t i = 0; i < bounds.back(); i++) x[size_t(i)] = value<float>(R, i);
    for (int64_t i = bounds[size_t(R)]; i < bounds[size_t(R) + 1]; i++) y[size_t(i)] = value<float>(R + 7, i);
    c.reduce_scatter_sum(x.data(), bounds);
    c.all_gather_ranges(y.data(), bounds);
    bool rs = true, ag = true;
    for (int64_t i = bounds[size_t(R)]; i < bounds[size_t(R) + 1]; i++) {
      float acc = 0;
      for (int r = 0; r < N; r++) acc += value<float>(r, i);
      if (rs && std::memcmp(&acc, &x[size_t(i)], sizeof acc) != 0)
        std::fprintf(stderr, "rank %d: element %lld is %.9g, the rank-order sum %.9g\n", R, (long long)i, double(x[size_t(i)]),
                     double(acc));
      rs = rs && std::memcmp(&acc, &x[size_t(i)], sizeof acc) == 0;
    }
    for (int r = 0; r < N; r++)
      for (int64_t i = bounds[size_t(r)]; i < bounds[size_t(r) + 1]; i++) ag = ag && y[size_t(i)] == value<float>(r + 7, i);
    check(rs, "reduce_scatter_sum is not the rank-order sum on this rank's range", R);
    check(ag, "all_gather_ranges", R);

    // send/recv: ranks 1 and 2 each send two messages to rank 0, which reads them in its own order.
    if (R == 0) {
      std::vector<int> got;
      for (int k = 0; k < 4; k++) {
        int v = -1;
        c.recv(&v, sizeof v, 2 - k % 2);
        got.push_back(v);
      }
      check(got == std::vector<int>({20, 10, 21, 11}), "send/recv order per pair", R);
    } else {
      for (int k = 0; k < 2; k++) {
        const int v = 10 * R + k;
        c.send(&v, sizeof v, 0);
      }
    }
  }
  c.barrier();
  if (failures == 0 && R == 0) std::printf("comm_mpi_check: every collective holds on %d ranks\n", N);
  return failures ? 1 : 0;
}
