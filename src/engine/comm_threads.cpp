// Ranks as threads of one process. Each collective: every rank publishes its
// buffer's address, waits at a barrier, rank 0 combines in rank order into a
// shared buffer, a second barrier, every rank copies the result out, a third
// barrier before any buffer may be reused (the partitioned collectives need
// only the first and last). Slow and obviously right: it is a
// specification and a test double, not a transport.
#include <algorithm>
#include <barrier>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "engine/comm.h"

namespace radlads {

namespace {

struct Shared {
  explicit Shared(int n) : size(n), sync(n), ptrs(size_t(n), nullptr) {}
  int size;
  std::barrier<> sync;
  std::vector<const void*> ptrs;
  std::vector<unsigned char> result;
  // send/recv: one FIFO per (sender, receiver)
  std::mutex mail_mu;
  std::condition_variable mail_cv;
  std::map<std::pair<int, int>, std::deque<std::vector<unsigned char>>> mail;
};

class ThreadComm final : public Comm {
 public:
  ThreadComm(std::shared_ptr<Shared> s, int rank) : s_(std::move(s)), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return s_->size; }
  void all_reduce_sum(float* buf, int64_t n) override { reduce(buf, n); }
  void all_reduce_sum(double* buf, int64_t n) override { reduce(buf, n); }
  void broadcast(void* buf, size_t bytes, int root) override {
    CHECK(root >= 0 && root < s_->size, "broadcast from rank {} of {}", root, s_->size);
    publish(buf);
    if (rank_ != root) std::memcpy(buf, s_->ptrs[size_t(root)], bytes);
    s_->sync.arrive_and_wait();
  }
  void reduce_scatter_sum(float* buf, const std::vector<int64_t>& bounds) override {
    check_bounds(bounds);
    publish(buf);
    // Rank r reads range r of every buffer and writes only its own: no
    // other rank reads that range of this buffer.
    const int64_t lo = bounds[size_t(rank_)], n = bounds[size_t(rank_) + 1] - lo;
    std::vector<float> acc(size_t(n), 0.0f);
    for (int q = 0; q < s_->size; q++) {
      const float* x = static_cast<const float*>(s_->ptrs[size_t(q)]) + lo;
      for (int64_t i = 0; i < n; i++) acc[size_t(i)] += x[i];
    }
    std::copy(acc.begin(), acc.end(), buf + lo);
    s_->sync.arrive_and_wait();
  }
  void all_gather_ranges(float* buf, const std::vector<int64_t>& bounds) override {
    check_bounds(bounds);
    publish(buf);
    // Range q of rank q's buffer is read by the others and written by nobody.
    for (int q = 0; q < s_->size; q++)
      if (q != rank_) {
        const int64_t lo = bounds[size_t(q)], n = bounds[size_t(q) + 1] - lo;
        std::memcpy(buf + lo, static_cast<const float*>(s_->ptrs[size_t(q)]) + lo, size_t(n) * sizeof(float));
      }
    s_->sync.arrive_and_wait();
  }
  void send(const void* buf, size_t bytes, int dest) override {
    CHECK(dest >= 0 && dest < s_->size && dest != rank_, "send to rank {} from rank {}", dest, rank_);
    const auto* p = static_cast<const unsigned char*>(buf);
    {
      std::lock_guard<std::mutex> lock(s_->mail_mu);
      s_->mail[{rank_, dest}].emplace_back(p, p + bytes);
    }
    s_->mail_cv.notify_all();
  }
  void recv(void* buf, size_t bytes, int src) override {
    CHECK(src >= 0 && src < s_->size && src != rank_, "receive from rank {} on rank {}", src, rank_);
    std::unique_lock<std::mutex> lock(s_->mail_mu);
    auto& q = s_->mail[{src, rank_}];
    s_->mail_cv.wait(lock, [&] { return !q.empty(); });
    CHECK(q.front().size() == bytes, "rank {} sent {} bytes, rank {} expects {}", src, q.front().size(), rank_, bytes);
    std::memcpy(buf, q.front().data(), bytes);
    q.pop_front();
  }
  void barrier() override { s_->sync.arrive_and_wait(); }

 private:
  void check_bounds(const std::vector<int64_t>& b) const {
    CHECK(b.size() == size_t(s_->size) + 1 && b[0] == 0, "a partition of {} ranges over {} ranks", b.size() - 1,
          s_->size);
    for (size_t i = 1; i < b.size(); i++) CHECK(b[i] >= b[i - 1], "partition bounds decrease at {}", i);
  }
  void publish(const void* p) {
    s_->ptrs[size_t(rank_)] = p;
    s_->sync.arrive_and_wait();
  }
  template <class F>
  void reduce(F* buf, int64_t n) {
    publish(buf);
    if (rank_ == 0) {
      s_->result.assign(size_t(n) * sizeof(F), 0);
      F* acc = reinterpret_cast<F*>(s_->result.data());
      for (int r = 0; r < s_->size; r++) {
        const F* x = static_cast<const F*>(s_->ptrs[size_t(r)]);
        for (int64_t i = 0; i < n; i++) acc[i] += x[i];
      }
    }
    s_->sync.arrive_and_wait();
    std::memcpy(buf, s_->result.data(), size_t(n) * sizeof(F));
    s_->sync.arrive_and_wait();
  }

  std::shared_ptr<Shared> s_;
  int rank_;
};

}  // namespace

std::vector<std::unique_ptr<Comm>> make_thread_comm_group(int size) {
  CHECK(size >= 1, "a group of {} ranks", size);
  auto s = std::make_shared<Shared>(size);
  std::vector<std::unique_ptr<Comm>> comms;
  for (int r = 0; r < size; r++) comms.push_back(std::make_unique<ThreadComm>(s, r));
  return comms;
}

}  // namespace radlads
