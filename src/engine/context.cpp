#include "engine/context.h"

#include <omp.h>

namespace radlads {

namespace {
// The thread count OpenMP starts with (OMP_NUM_THREADS or every core), read
// once before any context changes it.
int default_threads() {
  static const int n = omp_get_max_threads();
  return n;
}
}  // namespace

ExecContext ExecContext::local(int threads, uint64_t seed) {
  ExecContext c;
  c.threads = threads > 0 ? threads : default_threads();
  c.seed = seed;
  c.comm = make_local_comm();
  c.bind();
  return c;
}

void ExecContext::bind() const {
  default_threads();
  omp_set_num_threads(threads);
}

nlohmann::json ExecContext::to_json() const {
  return {{"backend", backend->name()}, {"threads", threads}, {"rank", rank()}, {"world", world()}, {"seed", seed}};
}

}  // namespace radlads
