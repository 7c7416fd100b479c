// Runs code written for several ranks on the in-process rank group
// (engine/comm.h's thread group), for the tests of the collectives and of
// what is built on them.
#pragma once

#include <thread>
#include <vector>

#include "engine/comm.h"

namespace radlads::test {

// Runs f(rank, comm) on every rank of a group of n, one thread each.
template <class F>
void on_ranks(int n, F f) {
  auto comms = make_thread_comm_group(n);
  std::vector<std::thread> ts;
  for (int r = 0; r < n; r++) ts.emplace_back([&, r] { f(r, *comms[size_t(r)]); });
  for (auto& t : ts) t.join();
}

}  // namespace radlads::test
