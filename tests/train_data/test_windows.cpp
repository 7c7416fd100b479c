// Training-window order: the reference's magic prime and starts (values from
// RWKV-LM's Python formula), one epoch visiting distinct in-bounds windows,
// purity, seeds; and the sequential held-out windows.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <set>

#include "core/error.h"
#include "data/binidx.h"
#include "data/windows.h"
#include "data_test_util.h"

namespace radlads {
namespace {

using test::TempDir;

// Tokens 0, 1, ..., n-1 (int32) in documents of 97 tokens, so a window's
// content tells where it starts.
TokenDataset iota_dataset(const TempDir& tmp, int64_t n) {
  BinidxWriter w(tmp.file("iota"), TokenDtype::i32);
  for (int64_t s = 0; s < n; s += 97) {
    std::vector<int32_t> d(size_t(std::min<int64_t>(97, n - s)));
    std::iota(d.begin(), d.end(), int32_t(s));
    w.add_document(d);
  }
  w.finish();
  return TokenDataset::open(tmp.file("iota"));
}

TEST(WindowSampler, MagicPrimeAsMakeData) {
  // RWKV-LM's demo script comment: minipile, 1498226207 tokens, ctx 512 -> 2926181.
  EXPECT_EQ(magic_prime(1498226207, 512), 2926181);
  EXPECT_EQ(magic_prime(8005, 8), 983);
  EXPECT_EQ(magic_prime(3 * 512, 512), 2);  // the smallest stream that has one
  EXPECT_EQ(magic_prime(3 * 512 - 1, 512), 0);
}

// The reference's own numbers, on a sparse file as large as minipile:
// python: f = int(p*((sqrt(5)-1)/2)); start = ((f*ii**3) % p) * 512, ii = 1 + g.
TEST(WindowSampler, StartsMatchReferenceFormula) {
  TempDir tmp;
  const int64_t n = 1498226207;
  {
    std::string idx = std::string("MMIDIDX\0\0", 9);
    auto put = [&](const void* p, size_t k) { idx.append(static_cast<const char*>(p), k); };
    const uint64_t version = 1, docs = 1, m = 2;
    const uint8_t code = 8;
    const int32_t size = int32_t(n);
    const int64_t ptr = 0, d0 = 0, d1 = 1;
    put(&version, 8), put(&code, 1), put(&docs, 8), put(&m, 8), put(&size, 4), put(&ptr, 8), put(&d0, 8),
        put(&d1, 8);
    test::write_file(tmp.file("big.idx"), idx);
    test::write_file(tmp.file("big.bin"), "");
    std::filesystem::resize_file(tmp.file("big.bin"), uint64_t(n) * 2);  // sparse: no disk used
  }
  const TokenDataset ds = TokenDataset::open(tmp.file("big"));
  const WindowSampler s(ds, 513, 0);
  EXPECT_EQ(s.n_windows(), 2926181);
  const std::vector<std::pair<int64_t, int64_t>> want = {
      {0, 925941248}, {1, 1414711296}, {2, 1029138944}, {999, 31507968},
      {2926179, 572263424}, {2926180, 0}, {2926181, 925941248}, {123456789, 1342424064}};
  for (auto [i, start] : want) EXPECT_EQ(s.window_start(i), start) << "sample " << i;
}

TEST(WindowSampler, EpochVisitsDistinctWindowsInBounds) {
  TempDir tmp;
  for (int64_t n : {8005, 3 * 8, 9000}) {
    const TokenDataset ds = iota_dataset(tmp, n);
    const int T = 8;
    const WindowSampler s(ds, T + 1, 0);
    const int64_t p = s.n_windows();
    ASSERT_EQ(p, magic_prime(n, T));
    std::set<int64_t> starts;
    std::vector<int32_t> w(T + 1);
    for (int64_t i = 0; i < p; ++i) {
      const int64_t st = s.window_start(i);
      ASSERT_EQ(st % T, 0);
      ASSERT_GE(st, 0);
      ASSERT_LE(st + T + 1, ds.n_tokens());
      starts.insert(st);
      EXPECT_EQ(s.window_start(i + p), st);  // the next epoch repeats the order
      s.window(i, w.data());
      for (int k = 0; k <= T; ++k) ASSERT_EQ(w[size_t(k)], st + k);
    }
    EXPECT_EQ(int64_t(starts.size()), p) << "n = " << n;  // a bijection onto the p slots
    std::filesystem::remove(tmp.file("iota.bin"));
    std::filesystem::remove(tmp.file("iota.idx"));
  }
}

TEST(WindowSampler, PureFunctionOfArgumentsAndSeed) {
  TempDir tmp;
  const TokenDataset ds = iota_dataset(tmp, 100000);
  const WindowSampler a(ds, 65, 0), b(ds, 65, 0), c(ds, 65, 1), d(ds, 65, 2);
  // A fresh sampler (a resumed run) asked for step 5000 first gives what the
  // first one gives after having been asked in order.
  std::vector<int64_t> sa, sc, sd;
  for (int64_t i = 0; i < 1000; ++i) sa.push_back(a.window_start(i));
  EXPECT_EQ(b.window_start(999), sa[999]);
  for (int64_t i = 0; i < 1000; ++i) sc.push_back(c.window_start(i)), sd.push_back(d.window_start(i));
  int same_ac = 0, same_cd = 0;
  for (size_t i = 0; i < sa.size(); ++i) same_ac += sa[i] == sc[i], same_cd += sc[i] == sd[i];
  EXPECT_LT(same_ac, 10);
  EXPECT_LT(same_cd, 10);
  // A seed only rotates the cycle: the same windows per epoch, another order.
  const int64_t p = a.n_windows();
  std::set<int64_t> ea, ec;
  for (int64_t i = 0; i < p; ++i) ea.insert(a.window_start(i)), ec.insert(c.window_start(i));
  EXPECT_EQ(ea, ec);
  // Sample i of seed 1 is a later sample of seed 0 in the reference cycle.
  bool found = false;
  for (int64_t k = 0; k < p && !found; ++k) found = a.window_start(k) == sc[0] && a.window_start(k + 1) == sc[1];
  EXPECT_TRUE(found);
}

TEST(WindowSampler, TooShortOrBadLengthIsAnError) {
  TempDir tmp;
  const TokenDataset ds = iota_dataset(tmp, 100);
  EXPECT_NO_THROW(WindowSampler(ds, 34, 0));  // 3 * 33 <= 100
  try {
    WindowSampler(ds, 35, 0);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(tmp.file("iota")), std::string::npos) << e.what();
  }
  EXPECT_THROW(WindowSampler(ds, 1, 0), Error);
}

TEST(WindowHeldout, SequentialWindowsTileTheTargets) {
  TempDir tmp;
  const TokenDataset ds = iota_dataset(tmp, 1000);
  const HeldoutWindows all(ds, 65, 0);
  EXPECT_EQ(all.n_windows(), 999 / 64);  // 15: the last ends at 15*64 + 1 <= 1000
  std::vector<int32_t> w(65);
  for (int64_t i = 0; i < all.n_windows(); ++i) {
    EXPECT_EQ(all.window_start(i), i * 64);
    all.window(i, w.data());
    for (int k = 0; k < 65; ++k) ASSERT_EQ(w[size_t(k)], i * 64 + k);
  }
  EXPECT_EQ(HeldoutWindows(ds, 65, 4).n_windows(), 4);
  EXPECT_EQ(HeldoutWindows(ds, 65, 100).n_windows(), 15);
  EXPECT_EQ(HeldoutWindows(ds, 1000, 0).n_windows(), 1);  // exactly one window fits
  EXPECT_THROW(HeldoutWindows(ds, 1001, 0), Error);
  EXPECT_THROW(HeldoutWindows(ds, 1, 0), Error);
}

}  // namespace
}  // namespace radlads
