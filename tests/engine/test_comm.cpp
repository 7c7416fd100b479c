// The collectives' contract, on the in-process rank group (the executable
// specification an MPI or NCCL implementation is tested against) and on the
// one-process LocalComm.
#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "engine/comm.h"
#include "engine/context.h"
#include "engine/on_ranks.h"

namespace radlads {
namespace {

using test::on_ranks;

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

TEST(Comm, ThreadGroupBroadcast) {
  const int n = 4;
  std::vector<std::vector<float>> bc(n);
  on_ranks(n, [&](int r, Comm& c) {
    std::vector<float> b(5, float(r + 1));
    c.broadcast(b.data(), b.size() * sizeof(float), 2);
    bc[size_t(r)] = b;
    c.barrier();
  });
  for (int r = 0; r < n; r++) EXPECT_EQ(bc[size_t(r)], std::vector<float>(5, 3.0f)) << r;
}

// A value whose rank-order sum rounds differently from other orders.
float term(int r, int64_t i) { return float(((i * 2654435761LL + r * 40503LL) % 1000003) * 1e-3 + (r == 1 ? 1e7 : 0)); }

TEST(Comm, ThreadGroupReduceScatterAndGatherOverAPartition) {
  // Uneven ranges, one of them empty: what ZeRO's shards of a gradient arena look like.
  const std::vector<int64_t> bounds = {0, 7, 7, 20, 33};
  const int n = 4;
  const int64_t len = bounds.back();
  std::vector<std::vector<float>> reduced(n), gathered(n);
  on_ranks(n, [&](int r, Comm& c) {
    std::vector<float> x(static_cast<size_t>(len));
    for (int64_t i = 0; i < len; i++) x[size_t(i)] = term(r, i);
    c.reduce_scatter_sum(x.data(), bounds);
    reduced[size_t(r)] = x;
    std::vector<float> y(static_cast<size_t>(len), -1.0f);
    for (int64_t i = bounds[size_t(r)]; i < bounds[size_t(r) + 1]; i++) y[size_t(i)] = float(100 * r + i);
    c.all_gather_ranges(y.data(), bounds);
    gathered[size_t(r)] = y;
  });
  for (int r = 0; r < n; r++) {
    for (int64_t i = bounds[size_t(r)]; i < bounds[size_t(r) + 1]; i++) {
      float want = 0;
      for (int q = 0; q < n; q++) want += term(q, i);
      ASSERT_EQ(reduced[size_t(r)][size_t(i)], want) << "rank " << r << " element " << i;
    }
    for (int q = 0; q < n; q++)
      for (int64_t i = bounds[size_t(q)]; i < bounds[size_t(q) + 1]; i++)
        ASSERT_EQ(gathered[size_t(r)][size_t(i)], float(100 * q + i)) << "rank " << r << " element " << i;
  }
}

TEST(Comm, ThreadGroupSendAndReceiveKeepOrderPerPair) {
  std::vector<int> got;
  on_ranks(3, [&](int r, Comm& c) {
    if (r == 0) {
      for (int k = 0; k < 4; k++) {
        int v = -1;
        c.recv(&v, sizeof v, 1 + k % 2);  // alternately from ranks 1 and 2
        got.push_back(v);
      }
    } else {
      for (int k = 0; k < 2; k++) {
        const int v = 10 * r + k;
        c.send(&v, sizeof v, 0);
      }
    }
  });
  EXPECT_EQ(got, (std::vector<int>{10, 20, 11, 21}));
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
  ctx.comm->reduce_scatter_sum(x.data(), {0, 3});
  ctx.comm->all_gather_ranges(x.data(), {0, 3});
  EXPECT_EQ(x, x0);
  int v = 0;
  EXPECT_THROW(ctx.comm->send(&v, sizeof v, 1), Error);
  const nlohmann::json j = ctx.to_json();
  EXPECT_EQ(j.at("backend"), "cpu");
  EXPECT_EQ(j.at("threads"), 1);
  EXPECT_EQ(j.at("world"), 1);
  EXPECT_EQ(j.at("seed"), 7);
}

}  // namespace
}  // namespace radlads
