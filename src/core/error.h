// Errors in two tiers. CHECK: an always-on invariant check for programming
// errors, reports file:line and aborts. Error: a user-facing problem (bad file,
// bad flag) thrown as an exception, caught by the CLI, printed as one line,
// exit status 2.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace radlads {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The user asked to stop (SIGINT/SIGTERM) and the work so far is saved: the
// CLI prints the message (how to continue) and exits with 128 + signal.
struct Interrupted : Error {
  Interrupted(const std::string& message, int sig) : Error(message), signal(sig) {}
  int signal;
};

// fail("{}: bad magic", path) throws Error with a formatted one-line message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

[[noreturn]] inline void check_failed(const char* file, int line, const char* cond,
                                      const std::string& msg) {
  std::fprintf(stderr, "%s:%d: CHECK(%s) failed: %s\n", file, line, cond, msg.c_str());
  std::abort();
}

}  // namespace radlads

#define CHECK(cond, ...)                                                           \
  do {                                                                             \
    if (!(cond)) [[unlikely]]                                                      \
      ::radlads::check_failed(__FILE__, __LINE__, #cond, ::fmt::format(__VA_ARGS__)); \
  } while (0)
