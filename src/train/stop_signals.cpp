#include "train/stop_signals.h"

namespace radlads {

namespace {
volatile sig_atomic_t g_requested = 0;
extern "C" void on_stop_signal(int sig) { g_requested = sig; }
}  // namespace

StopSignals::StopSignals() {
  g_requested = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // one-shot: the second signal has its default effect
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

int StopSignals::requested() const { return g_requested; }

}  // namespace radlads
