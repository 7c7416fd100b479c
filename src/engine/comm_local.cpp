#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "engine/comm.h"

namespace radlads {

namespace {

class LocalComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void all_reduce_sum(float*, int64_t) override {}
  void all_reduce_sum(double*, int64_t) override {}
  void broadcast(void*, size_t, int root) override { CHECK(root == 0, "broadcast from rank {} of 1", root); }
  void reduce_scatter_sum(float*, const std::vector<int64_t>& bounds) override { check_one(bounds); }
  void all_gather_ranges(float*, const std::vector<int64_t>& bounds) override { check_one(bounds); }
  void send(const void*, size_t, int dest) override { fail("send to rank {}: a one-process run has no other rank", dest); }
  void recv(void*, size_t, int src) override { fail("receive from rank {}: a one-process run has no other rank", src); }
  void barrier() override {}

 private:
  static void check_one(const std::vector<int64_t>& bounds) {
    CHECK(bounds.size() == 2 && bounds[0] == 0, "a partition over {} ranks in a one-process run", bounds.size() - 1);
  }
};

}  // namespace

std::unique_ptr<Comm> make_local_comm() { return std::make_unique<LocalComm>(); }

int mpi_world_size_from_env() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* s = std::getenv(v)) return std::max(0, std::atoi(s));
  return 0;
}

}  // namespace radlads
