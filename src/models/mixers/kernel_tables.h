// A mixer's kernel tables by device (models/mixers/<name>/kernels.h): the
// CPU's, the CUDA build's, and others registered by backend name (the tests
// register the host emulation's). One instance per table type.
#pragma once

#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "backend/backend.h"
#include "core/error.h"

namespace radlads {

template <class Table>
class KernelTables {
 public:
  void add(const char* backend_name, const Table& t) {
    std::lock_guard<std::mutex> lock(mu_);
    by_name_[backend_name] = &t;
  }
  // cpu for the CPU backend, cuda() for "cuda" (null in a build without
  // CUDA), else a registered table; throws Error naming the mixer.
  const Table& find(const Backend& be, const Table& cpu, const Table* (*cuda)(), const char* mixer) const {
    if (be.device() == Device::Cpu) return cpu;
    if (cuda && std::strcmp(be.name(), "cuda") == 0)
      if (const Table* t = cuda()) return *t;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_name_.find(be.name());
    if (it == by_name_.end()) fail("{} has no kernels for the {} backend", mixer, be.name());
    return *it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, const Table*> by_name_;
};

}  // namespace radlads
