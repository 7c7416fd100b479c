// The magic-prime window order and sequential held-out windows.
#include "data/windows.h"

#include <cmath>

#include "core/error.h"

namespace radlads {

namespace {

// The reference's is_prime: trial division by 6k +/- 1 (p is at most
// n_tokens / T, so sqrt(p) steps are cheap even for trillions of tokens).
bool is_prime(int64_t n) {
  if (n <= 1) return false;
  if (n <= 3) return true;
  if (n % 2 == 0 || n % 3 == 0) return false;
  for (int64_t i = 5; i * i <= n; i += 6)
    if (n % i == 0 || n % (i + 2) == 0) return false;
  return true;
}

uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) { return uint64_t((unsigned __int128)a * b % m); }

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

int64_t magic_prime(int64_t n_tokens, int64_t T) {
  CHECK(T >= 1, "context length {} < 1", T);
  // make_data.py: only when data_size >= 3 * ctx_len; n_chunk = data_size // ctx_len - 1.
  if (n_tokens < 3 * T) return 0;
  for (int64_t i = n_tokens / T - 1; i > 0; --i)
    if (i % 3 == 2 && is_prime(i)) return i;
  return 0;
}

WindowSampler::WindowSampler(const TokenDataset& data, int window_len, uint64_t seed)
    : data_(data), window_len_(window_len) {
  if (window_len < 2) fail("training window of {} tokens: need at least 2 (T+1 with T >= 1)", window_len);
  const int64_t T = window_len - 1;
  p_ = magic_prime(data.n_tokens(), T);
  if (p_ == 0)
    fail("{}: {} tokens are too few for training windows of {} tokens (need at least {})", data.prefix(),
         data.n_tokens(), window_len, 3 * T);
  // Same double arithmetic as Python's int(magic_prime * ((math.sqrt(5) - 1) / 2)).
  const double factor = (std::sqrt(5.0) - 1.0) / 2.0;
  golden_ = int64_t(double(p_) * factor);
  offset_ = seed == 0 ? 0 : int64_t(splitmix64(seed) % uint64_t(p_));
}

int64_t WindowSampler::window_start(int64_t i) const {
  CHECK(i >= 0, "window index {} < 0", i);
  // ii mod p first: the cube then fits 128-bit products however long training runs.
  const uint64_t p = uint64_t(p_);
  const uint64_t ii = (1 + uint64_t(i) % p + uint64_t(offset_)) % p;
  const uint64_t cube = mulmod(mulmod(ii, ii, p), ii, p);
  return int64_t(mulmod(uint64_t(golden_), cube, p)) * (window_len_ - 1);
}

void WindowSampler::window(int64_t i, int32_t* out) const { data_.read(window_start(i), window_len_, out); }

HeldoutWindows::HeldoutWindows(const TokenDataset& data, int window_len, int64_t max_windows)
    : data_(data), window_len_(window_len) {
  if (window_len < 2) fail("evaluation window of {} tokens: need at least 2 (T+1 with T >= 1)", window_len);
  const int64_t T = window_len - 1;
  // Window i covers [i*T, i*T + T + 1): the last one must end inside the stream.
  n_ = data.n_tokens() >= window_len ? (data.n_tokens() - 1) / T : 0;
  if (max_windows > 0 && max_windows < n_) n_ = max_windows;
  if (n_ == 0)
    fail("{}: {} tokens are too few for one evaluation window of {} tokens", data.prefix(), data.n_tokens(),
         window_len);
}

int64_t HeldoutWindows::window_start(int64_t i) const {
  CHECK(i >= 0 && i < n_, "held-out window {} outside [0, {})", i, n_);
  return i * (window_len_ - 1);
}

void HeldoutWindows::window(int64_t i, int32_t* out) const { data_.read(window_start(i), window_len_, out); }

}  // namespace radlads
