// Ranks as threads of one process. Each collective: every rank publishes its
// buffer's address, waits at a barrier, rank 0 combines in rank order into a
// shared buffer, a second barrier, every rank copies the result out, a third
// barrier before any buffer may be reused. Slow and obviously right: it is a
// specification and a test double, not a transport.
#include <barrier>
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
  void all_gather(const float* send, int64_t n, float* recv) override {
    // Through the shared buffer, so that an in-place send (inside recv) is
    // read before any rank writes its recv.
    publish(send);
    if (rank_ == 0) {
      s_->result.resize(size_t(s_->size) * size_t(n) * sizeof(float));
      for (int r = 0; r < s_->size; r++)
        std::memcpy(s_->result.data() + size_t(r) * size_t(n) * sizeof(float), s_->ptrs[size_t(r)],
                    size_t(n) * sizeof(float));
    }
    s_->sync.arrive_and_wait();
    std::memcpy(recv, s_->result.data(), s_->result.size());
    s_->sync.arrive_and_wait();
  }
  void barrier() override { s_->sync.arrive_and_wait(); }

 private:
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
