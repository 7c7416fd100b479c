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
  return F(h) * F(1e-3) + ((i + rank) % 3 == 0 ? F(1e7) : F(0)) - (rank == 1 && i % 5 == 0 ? F(1e7) : F(0));
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

  // all_gather, separate and in place
  const int64_t n = 1001;
  std::vector<float> send(static_cast<size_t>(n)), recv(static_cast<size_t>(n * N)), inplace(static_cast<size_t>(n * N), -1.0f);
  for (int64_t i = 0; i < n; i++) send[size_t(i)] = value<float>(R, i), inplace[size_t(R * n + i)] = send[size_t(i)];
  c.all_gather(send.data(), n, recv.data());
  c.all_gather(inplace.data() + R * n, n, inplace.data());
  bool ok = true;
  for (int r = 0; r < N; r++)
    for (int64_t i = 0; i < n; i++)
      ok = ok && recv[size_t(r * n + i)] == value<float>(r, i) && inplace[size_t(r * n + i)] == value<float>(r, i);
  check(ok, "all_gather", R);
  c.barrier();
  if (failures == 0 && R == 0) std::printf("comm_mpi_check: every collective holds on %d ranks\n", N);
  return failures ? 1 : 0;
}
