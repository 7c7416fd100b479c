// The communication interface over MPI (OpenMPI from Debian): one process per
// rank, on one machine or several. Built when CMake finds MPI.
//
// all_reduce_sum keeps the interface's promise of a rank-order sum, the same
// bits on every rank as in the thread group: a pipelined chain, rank r
// receiving the running sum of ranks 0..r−1 chunk by chunk, adding its own
// and passing it on, then a broadcast from the last rank. Each link carries
// the buffer once, as in a ring, and chunks overlap across ranks; the chain's
// latency grows with the rank count.
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "engine/comm.h"

namespace radlads {

namespace {

constexpr int64_t kChunkBytes = int64_t(4) << 20;
constexpr int kTagChain = 7001;

void check_mpi(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    fail("MPI {} failed: {}", what, std::string(msg, size_t(len)));
  }
}

template <class F>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }

class MpiComm final : public Comm {
 public:
  MpiComm() {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
      int provided = 0;
      // Only the main thread calls MPI (the OpenMP workers never do).
      check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "init");
      owns_ = true;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiComm() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owns_ && !finalized) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_reduce_sum(float* buf, int64_t n) override { chain_sum(buf, n); }
  void all_reduce_sum(double* buf, int64_t n) override { chain_sum(buf, n); }
  void broadcast(void* buf, size_t bytes, int root) override {
    CHECK(root >= 0 && root < size_, "broadcast from rank {} of {}", root, size_);
    char* p = static_cast<char*>(buf);
    for (size_t o = 0; o < bytes; o += size_t(INT_MAX)) {
      const int m = int(std::min(bytes - o, size_t(INT_MAX)));
      check_mpi(MPI_Bcast(p + o, m, MPI_BYTE, root, MPI_COMM_WORLD), "broadcast");
    }
  }
  void all_gather(const float* send, int64_t n, float* recv) override {
    CHECK(n <= INT_MAX, "all_gather of {} floats per rank: over MPI's int count", n);
    const bool in_place = send == recv + int64_t(rank_) * n;
    check_mpi(MPI_Allgather(in_place ? MPI_IN_PLACE : send, int(n), MPI_FLOAT, recv, int(n), MPI_FLOAT,
                            MPI_COMM_WORLD),
              "all_gather");
  }
  void barrier() override { check_mpi(MPI_Barrier(MPI_COMM_WORLD), "barrier"); }
  void abort(int status) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, status);
  }

 private:
  template <class F>
  void chain_sum(F* buf, int64_t n) {
    if (size_ == 1 || n == 0) return;
    const int64_t chunk = kChunkBytes / int64_t(sizeof(F));
    std::vector<char>& tmp_bytes = tmp_;
    if (tmp_bytes.size() < size_t(chunk) * sizeof(F)) tmp_bytes.resize(size_t(chunk) * sizeof(F));
    F* acc = reinterpret_cast<F*>(tmp_bytes.data());
    const MPI_Datatype t = mpi_type<F>();
    for (int64_t o = 0; o < n; o += chunk) {
      const int m = int(std::min(chunk, n - o));
      F* mine = buf + o;
      if (rank_ == 0) {
        for (int i = 0; i < m; i++) acc[i] = F(0) + mine[i];  // as the thread group: 0 + b0 + b1 + …
      } else {
        check_mpi(MPI_Recv(acc, m, t, rank_ - 1, kTagChain, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "chain receive");
        for (int i = 0; i < m; i++) acc[i] += mine[i];
      }
      if (rank_ + 1 < size_)
        check_mpi(MPI_Send(acc, m, t, rank_ + 1, kTagChain, MPI_COMM_WORLD), "chain send");
      else
        std::memcpy(mine, acc, size_t(m) * sizeof(F));
    }
    // The last rank holds the sum: every rank gets its bits.
    for (int64_t o = 0; o < n; o += chunk) {
      const int m = int(std::min(chunk, n - o));
      check_mpi(MPI_Bcast(buf + o, m, t, size_ - 1, MPI_COMM_WORLD), "broadcast of the sum");
    }
  }

  int rank_ = 0, size_ = 1;
  bool owns_ = false;
  std::vector<char> tmp_;  // one chunk, sized by the first reduction
};

}  // namespace

std::unique_ptr<Comm> make_mpi_comm() { return std::make_unique<MpiComm>(); }

}  // namespace radlads
