// sysinfo: /proc reads and the clock.
#include "core/sysinfo.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>

namespace radlads {

size_t rss_bytes() {
  long pages = 0, rss = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    std::fclose(f);
  }
  return size_t(rss) * 4096;
}

size_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return size_t(u.ru_maxrss) * 1024;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace radlads
