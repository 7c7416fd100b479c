// Graceful stop for training: while a StopSignals lives, the first SIGINT or
// SIGTERM only records itself, so the loop can finish its step, write a
// checkpoint and leave with a message; a second one acts as usual (the
// handler is one-shot), so a stuck run can still be killed. The previous
// handlers come back when it is destroyed.
#pragma once

#include <signal.h>

namespace radlads {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  int requested() const;  // the signal received, or 0

 private:
  struct sigaction old_int_{}, old_term_{};
};

}  // namespace radlads
