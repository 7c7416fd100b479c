// The collectives' contract, on the in-process rank group (the executable
// specification an MPI or NCCL implementation is tested against) and on the
// one-process LocalComm.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "engine/comm.h"
#include "engine/context.h"

namespace radlads {
namespace {

// Runs f(rank, comm) on every rank of a group of n, one thread each.
template <class F>
void on_ranks(int n, F f) {
  auto comms = make_thread_comm_group(n);
  std::vector<std::thread> ts;
  for (int r = 0; r < n; r++) ts.emplace_back([&, r] { f(r, *comms[size_t(r)]); });
  for (auto& t : ts) t.join();
}

TEST(Comm, ThreadGroupAllReduceSumsInRankOrder) {
  const int n = 3;
  const int64_t len = 1000;
  std::vector<std::vector<float>> got(n);
  std::vector<std::vector<double>> got_d(n);
  on_ranks(n, [&](int r, Comm& c) {
    EXPECT_EQ(c.rank(), r);
    EXPECT_EQ(c.size(), n);
    std::vector<float> x(len);
    std::vector<double> y(len);
    for (int64_t i = 0; i < len; i++) x[size_t(i)] = float(1e8 * (r == 0) + 0.5 * r + i), y[size_t(i)] = r * 1e-3 + i;
    c.all_reduce_sum(x.data(), len);
    c.all_reduce_sum(y.data(), len);
    got[size_t(r)] = x;
    got_d[size_t(r)] = y;
  });
  for (int64_t i = 0; i < len; i++) {
    // Rank order: ((x0 + x1) + x2) in float, the same bits on every rank.
    float want = 0;
    for (int r = 0; r < n; r++) want += float(1e8 * (r == 0) + 0.5 * r + i);
    double want_d = 0;
    for (int r = 0; r < n; r++) want_d += r * 1e-3 + double(i);
    for (int r = 0; r < n; r++) {
      ASSERT_EQ(got[size_t(r)][size_t(i)], want) << "rank " << r << " element " << i;
      ASSERT_EQ(got_d[size_t(r)][size_t(i)], want_d) << "rank " << r << " element " << i;
    }
  }
}

TEST(Comm, ThreadGroupBroadcastAndAllGather) {
  const int n = 4;
  const int64_t len = 5;
  std::vector<std::vector<float>> bc(n), gathered(n), inplace(n);
  on_ranks(n, [&](int r, Comm& c) {
    std::vector<float> b(len, float(r + 1));
    c.broadcast(b.data(), b.size() * sizeof(float), 2);
    bc[size_t(r)] = b;
    std::vector<float> mine(len), all(size_t(n * len), -1.0f);
    for (int64_t i = 0; i < len; i++) mine[size_t(i)] = float(10 * r + i);
    c.all_gather(mine.data(), len, all.data());
    gathered[size_t(r)] = all;
    // In place: this rank's slice already sits inside recv (ZeRO's gather).
    std::vector<float> buf(size_t(n * len), -1.0f);
    std::copy(mine.begin(), mine.end(), buf.begin() + r * len);
    c.all_gather(buf.data() + r * len, len, buf.data());
    inplace[size_t(r)] = buf;
    c.barrier();
  });
  for (int r = 0; r < n; r++) {
    EXPECT_EQ(bc[size_t(r)], std::vector<float>(len, 3.0f)) << r;
    for (int q = 0; q < n; q++)
      for (int64_t i = 0; i < len; i++) {
        EXPECT_EQ(gathered[size_t(r)][size_t(q * len + i)], float(10 * q + i));
        EXPECT_EQ(inplace[size_t(r)][size_t(q * len + i)], float(10 * q + i));
      }
  }
}

TEST(Comm, LocalCommIsOneRankThatChangesNothing) {
  ExecContext ctx = ExecContext::local(1, 7);
  EXPECT_EQ(ctx.rank(), 0);
  EXPECT_EQ(ctx.world(), 1);
  EXPECT_EQ(ctx.threads, 1);
  std::vector<float> x = {1.5f, -2.0f, 3.25f};
  const std::vector<float> x0 = x;
  ctx.comm->all_reduce_sum(x.data(), 3);
  ctx.comm->broadcast(x.data(), 12, 0);
  EXPECT_EQ(x, x0);
  std::vector<float> out(3);
  ctx.comm->all_gather(x.data(), 3, out.data());
  EXPECT_EQ(out, x0);
  const nlohmann::json j = ctx.to_json();
  EXPECT_EQ(j.at("backend"), "cpu");
  EXPECT_EQ(j.at("threads"), 1);
  EXPECT_EQ(j.at("world"), 1);
  EXPECT_EQ(j.at("seed"), 7);
}

}  // namespace
}  // namespace radlads
