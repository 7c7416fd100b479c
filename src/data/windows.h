// Which training windows of the packed token stream each step reads.
//
// WindowSampler reproduces RWKV-LM's "magic prime" order (train_temp/src/
// dataset.py, with make_data.py's choice of prime). For windows of
// window_len = T+1 tokens the stream is cut into slots of stride T (windows
// share one boundary token, so every token is a target once per epoch);
//   p      = the largest prime with p % 3 == 2 and p <= n_tokens / T - 1
//   golden = floor(p * (sqrt(5) - 1) / 2)
//   start(i) = ((golden * ii^3) mod p) * T,   ii = 1 + i + offset(seed)
// Cubing is a bijection modulo a prime p = 2 (mod 3) and golden is a unit, so
// samples 0..p-1 visit p distinct slots; sample i + p repeats sample i, as
// in the reference's later epochs. The reference's sample number is
// epoch * samples_per_epoch + idx * world_size + rank; with seed 0, offset is
// 0 and our i is that number, so the orders agree exactly. A non-zero seed
// rotates the cycle by offset(seed) = splitmix64(seed) mod p, which moves
// every step to a different, far-away slot (the reference has no seed).
// Everything is a pure function of (n_tokens, window_len, seed, i), so a run
// resumed at step s reads the same windows as one that never stopped.
#pragma once

#include <cstdint>

#include "data/binidx.h"

namespace radlads {

// The reference's magic prime for a stream of n_tokens and context T (0 when
// the stream is too short to have one: it needs n_tokens >= 3*T).
int64_t magic_prime(int64_t n_tokens, int64_t T);

class WindowSampler {
 public:
  // window_len = T+1 >= 2. Throws Error naming the dataset when it is too
  // short for even two windows' worth of slots (the prime 2).
  WindowSampler(const TokenDataset& data, int window_len, uint64_t seed);

  int64_t n_windows() const { return p_; }  // distinct windows per epoch (= p)
  int64_t window_start(int64_t i) const;    // any i >= 0; token offset of window i
  void window(int64_t i, int32_t* out) const;  // out: window_len tokens

 private:
  TokenDataset data_;  // a cheap copy sharing the maps, so no lifetime coupling
  int window_len_;
  int64_t p_ = 0, golden_ = 0, offset_ = 0;
};

// The first windows of a held-out stream, in order, for evaluation: window i
// starts at i*T, so consecutive windows share one token and their targets
// tile the stream, each token scored once.
class HeldoutWindows {
 public:
  // At most max_windows (<= 0: as many as fit). Throws Error naming the
  // dataset when not even one window fits.
  HeldoutWindows(const TokenDataset& data, int window_len, int64_t max_windows);

  int64_t n_windows() const { return n_; }
  int64_t window_start(int64_t i) const;  // i in [0, n_windows())
  void window(int64_t i, int32_t* out) const;

 private:
  TokenDataset data_;  // a cheap copy sharing the maps, so no lifetime coupling
  int window_len_;
  int64_t n_ = 0;
};

}  // namespace radlads
