// The execution context, passed explicitly to whatever computes: which
// backend runs the ops, how many threads it uses, this process's rank and
// the world size (through its Comm), and the run's seed. It replaces the
// global thread setting: the CLI builds one from its flags, training saves
// it in the run config, benchmarks take --threads through it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "engine/comm.h"

namespace radlads {

struct ExecContext {
  // What every op runs on (backend/backend.h); never null. Today: "cpu"
  // (oneDNN/OpenBLAS + OpenMP + our kernels).
  const Backend* backend = &cpu_backend();
  int threads = 1;              // the CPU backend's thread pool
  uint64_t seed = 0;
  std::shared_ptr<Comm> comm;   // never null: LocalComm in one process

  const Backend& be() const { return *backend; }
  int rank() const { return comm->rank(); }
  int world() const { return comm->size(); }

  // One process: threads ≤ 0 means every core (OMP_NUM_THREADS when set).
  // Binds the thread count before returning.
  static ExecContext local(int threads = 0, uint64_t seed = 0);
  // What the launch asks for: the ranks of mpirun when it started this
  // process (MPI build; throws Error naming the remedy in a build without
  // MPI), else one process as local(). threads is per rank.
  static ExecContext launched(int threads = 0, uint64_t seed = 0);

  // Makes this context's thread count the one the CPU backend's pool uses
  // (OpenMP, which oneDNN and OpenBLAS share). A context is bound when made;
  // code that switches between contexts (tests) binds again.
  void bind() const;

  // What a run config and a benchmark report record.
  nlohmann::json to_json() const;
};

}  // namespace radlads
