// The communication interface: collective operations over flat buffers, the
// only way ranks exchange data. Training calls it at fixed points (the
// gradient arena after backward, the loss sums for the log); in one process
// LocalComm makes every call a no-op, so a single-process run pays nothing.
// comm_mpi.cpp implements it over MPI; NCCL between GPUs will be one more
// class behind the same calls. Every sum is taken in rank order, so the result is the same
// bits on every rank and does not depend on arrival order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace radlads {

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // buf (n) ← Σ over ranks of buf, added in rank order 0, 1, …, size−1.
  virtual void all_reduce_sum(float* buf, int64_t n) = 0;
  virtual void all_reduce_sum(double* buf, int64_t n) = 0;
  // buf (bytes) on every rank ← buf of rank root.
  virtual void broadcast(void* buf, size_t bytes, int root) = 0;
  // ZeRO's two collectives, over a partition of a flat buffer of floats:
  // rank r owns [bounds[r], bounds[r+1]) (bounds has size()+1 entries, from 0,
  // non-decreasing; a range may be empty).
  // This rank's range of buf ← the rank-order sum of that range over every
  // rank (the same bits as all_reduce_sum there); the rest of buf is left
  // unspecified. Each rank sends what it does not own once: half an all-reduce.
  virtual void reduce_scatter_sum(float* buf, const std::vector<int64_t>& bounds) = 0;
  // Every range of buf ← its owner's bits, in place (the updated parameters
  // after a sharded optimiser step).
  virtual void all_gather_ranges(float* buf, const std::vector<int64_t>& bounds) = 0;
  // Point to point, matched in order per (sender, receiver) pair: bytes must
  // equal on both sides. For streaming a sharded state to rank 0 (checkpoints).
  virtual void send(const void* buf, size_t bytes, int dest) = 0;
  virtual void recv(void* buf, size_t bytes, int src) = 0;
  virtual void barrier() = 0;
  // Ends every rank's process with status: an error on one rank must not
  // leave the others waiting in a collective. One process: does nothing
  // (the caller exits).
  virtual void abort(int status) { (void)status; }
};

// One process, one rank: every collective leaves buf as it is; send and recv
// fail (there is no other rank).
std::unique_ptr<Comm> make_local_comm();

// The ranks mpirun started (engine/comm_mpi.cpp; only in a build with MPI).
// Initialises MPI if needed and finalises it when destroyed.
std::unique_ptr<Comm> make_mpi_comm();
// The world size an MPI launcher announces in the environment (OpenMPI's
// OMPI_COMM_WORLD_SIZE, or PMI_SIZE); 0 when the process was not started by one.
int mpi_world_size_from_env();

// size ranks inside one process, one thread each: the executable
// specification of the collectives (and the test double for code written for
// several ranks). Each endpoint must be used by one
// thread only, and all ranks must make the same calls in the same order.
// Element r is rank r's endpoint.
std::vector<std::unique_ptr<Comm>> make_thread_comm_group(int size);

}  // namespace radlads
