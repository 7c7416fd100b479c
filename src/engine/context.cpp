#include "engine/context.h"

#include <omp.h>

#include "core/error.h"

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

ExecContext ExecContext::launched(int threads, uint64_t seed) {
  ExecContext c = local(threads, seed);
  const int world = mpi_world_size_from_env();
  if (world == 0) return c;
#ifdef RADLADS_HAVE_MPI
  c.comm = make_mpi_comm();
#else
  if (world > 1)
    fail("started by an MPI launcher with {} ranks, but this build has no MPI: install libopenmpi-dev "
         "(scripts/setup.sh does) and rebuild",
         world);
#endif
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
