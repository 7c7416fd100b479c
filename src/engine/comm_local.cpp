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
  void all_gather(const float* send, int64_t n, float* recv) override {
    if (send != recv) std::memmove(recv, send, size_t(n) * sizeof(float));
  }
  void barrier() override {}
};

}  // namespace

std::unique_ptr<Comm> make_local_comm() { return std::make_unique<LocalComm>(); }

int mpi_world_size_from_env() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* s = std::getenv(v)) return std::max(0, std::atoi(s));
  return 0;
}

}  // namespace radlads
