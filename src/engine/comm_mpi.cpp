// The communication interface over MPI (OpenMPI from Debian): one process per
// rank, on one machine or several. Built when CMake finds MPI.
//
// all_reduce_sum keeps the interface's promise of a rank-order sum, the same
// bits on every rank as in the thread group: a pipelined chain, rank r
// receiving the running sum of ranks 0..r−1 chunk by chunk, adding its own
// and passing it on, then a broadcast from the last rank. Each link carries
// the buffer once, as in a ring, and chunks overlap across ranks; the chain's
// latency grows with the rank count.
//
// ZeRO's reduce_scatter_sum and all_gather_ranges are direct exchanges
// (non-blocking sends and receives between every pair, in rounds of bounded
// size): each rank sends and receives (N−1)/N of the buffer once, and the
// owner of a range adds the contributions in rank order.
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
constexpr int64_t kStageBytes = int64_t(32) << 20;
constexpr int kTagChain = 7001, kTagScatter = 7002, kTagGather = 7003, kTagPoint = 7004;

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
  void reduce_scatter_sum(float* buf, const std::vector<int64_t>& bounds) override {
    check_bounds(bounds);
    // Direct: in round c every rank sends chunk c of each range it does not
    // own to that range's owner, which adds the size contributions in rank
    // order. Rounds are sized so that the staging stays near kStageBytes.
    const int64_t chunk = round_chunk();
    const int64_t lo = bounds[size_t(rank_)];
    stage_.resize(size_t(size_ + 1) * size_t(chunk));
    float* acc = stage_.data() + size_t(size_) * size_t(chunk);
    for (int64_t o = 0; o < max_len(bounds); o += chunk) {
      reqs_.clear();
      const int m = round_count(bounds, rank_, o, chunk);
      for (int q = 0; q < size_; q++)
        if (q != rank_ && m > 0) post_recv(stage_.data() + size_t(q) * size_t(chunk), m, q, kTagScatter);
      for (int q = 0; q < size_; q++) {
        const int mq = round_count(bounds, q, o, chunk);
        if (q != rank_ && mq > 0) post_send(buf + bounds[size_t(q)] + o, mq, q, kTagScatter);
      }
      wait_all("reduce_scatter");
      for (int q = 0; q < size_; q++) {
        const float* x = q == rank_ ? buf + lo + o : stage_.data() + size_t(q) * size_t(chunk);
        if (q == 0)
          for (int i = 0; i < m; i++) acc[i] = 0.0f + x[i];  // as the thread group: 0 + b0 + b1 + …
        else
          for (int i = 0; i < m; i++) acc[i] += x[i];
      }
      if (m > 0) std::memcpy(buf + lo + o, acc, size_t(m) * sizeof(float));
    }
  }
  void all_gather_ranges(float* buf, const std::vector<int64_t>& bounds) override {
    check_bounds(bounds);
    const int64_t chunk = round_chunk();
    const int64_t lo = bounds[size_t(rank_)];
    for (int64_t o = 0; o < max_len(bounds); o += chunk) {
      reqs_.clear();
      for (int q = 0; q < size_; q++) {
        const int mq = round_count(bounds, q, o, chunk);
        if (q != rank_ && mq > 0) post_recv(buf + bounds[size_t(q)] + o, mq, q, kTagGather);
      }
      const int m = round_count(bounds, rank_, o, chunk);
      for (int q = 0; q < size_; q++)
        if (q != rank_ && m > 0) post_send(buf + lo + o, m, q, kTagGather);
      wait_all("all_gather");
    }
  }
  void send(const void* buf, size_t bytes, int dest) override {
    CHECK(dest >= 0 && dest < size_ && dest != rank_, "send to rank {} from rank {}", dest, rank_);
    const char* p = static_cast<const char*>(buf);
    for (size_t o = 0; o < bytes; o += size_t(INT_MAX)) {
      const int m = int(std::min(bytes - o, size_t(INT_MAX)));
      check_mpi(MPI_Send(p + o, m, MPI_BYTE, dest, kTagPoint, MPI_COMM_WORLD), "send");
    }
  }
  void recv(void* buf, size_t bytes, int src) override {
    CHECK(src >= 0 && src < size_ && src != rank_, "receive from rank {} on rank {}", src, rank_);
    char* p = static_cast<char*>(buf);
    for (size_t o = 0; o < bytes; o += size_t(INT_MAX)) {
      const int m = int(std::min(bytes - o, size_t(INT_MAX)));
      MPI_Status st;
      check_mpi(MPI_Recv(p + o, m, MPI_BYTE, src, kTagPoint, MPI_COMM_WORLD, &st), "receive");
      int got = 0;
      MPI_Get_count(&st, MPI_BYTE, &got);
      CHECK(got == m, "rank {} sent {} bytes, rank {} expected {}", src, got, rank_, m);
    }
  }
  void barrier() override { check_mpi(MPI_Barrier(MPI_COMM_WORLD), "barrier"); }
  void abort(int status) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, status);
  }

 private:
  void check_bounds(const std::vector<int64_t>& b) const {
    CHECK(b.size() == size_t(size_) + 1 && b[0] == 0, "a partition of {} ranges over {} ranks", b.size() - 1, size_);
    for (size_t i = 1; i < b.size(); i++) CHECK(b[i] >= b[i - 1], "partition bounds decrease at {}", i);
  }
  static int64_t max_len(const std::vector<int64_t>& b) {
    int64_t m = 0;
    for (size_t i = 1; i < b.size(); i++) m = std::max(m, b[i] - b[i - 1]);
    return m;
  }
  // Floats of rank q's range in the round starting o floats into every range.
  static int round_count(const std::vector<int64_t>& b, int q, int64_t o, int64_t chunk) {
    return int(std::clamp<int64_t>(b[size_t(q) + 1] - b[size_t(q)] - o, 0, chunk));
  }
  // Floats per round of the partitioned collectives: size·chunk floats staged.
  int64_t round_chunk() const {
    return std::max<int64_t>(int64_t(1) << 14, kStageBytes / int64_t(sizeof(float)) / int64_t(size_));
  }
  void post_recv(float* p, int n, int src, int tag) {
    reqs_.emplace_back();
    check_mpi(MPI_Irecv(p, n, MPI_FLOAT, src, tag, MPI_COMM_WORLD, &reqs_.back()), "receive");
  }
  void post_send(const float* p, int n, int dest, int tag) {
    reqs_.emplace_back();
    check_mpi(MPI_Isend(p, n, MPI_FLOAT, dest, tag, MPI_COMM_WORLD, &reqs_.back()), "send");
  }
  void wait_all(const char* what) {
    check_mpi(MPI_Waitall(int(reqs_.size()), reqs_.data(), MPI_STATUSES_IGNORE), what);
  }

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
  std::vector<float> stage_;  // reduce_scatter: one chunk per rank and the sum
  std::vector<MPI_Request> reqs_;
};

}  // namespace

std::unique_ptr<Comm> make_mpi_comm() { return std::make_unique<MpiComm>(); }

}  // namespace radlads
