// The progress bar under a fake clock: throttled '\r' redraws on a terminal,
// plain periodic lines elsewhere, rates, ETA and number formatting.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "train/progress.h"

namespace radlads {
namespace {

// A FILE* writing into memory, read back as a string.
struct MemStream {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  ~MemStream() {
    std::fclose(f);
    std::free(buf);
  }
  std::string text() {
    std::fflush(f);
    return std::string(buf, len);
  }
};

size_t count(const std::string& s, char c) { return size_t(std::count(s.begin(), s.end(), c)); }

TEST(Progress, Formatting) {
  EXPECT_EQ(format_hms(0), "0:00:00");
  EXPECT_EQ(format_hms(3725), "1:02:05");
  EXPECT_EQ(format_hms(59.6), "0:01:00");
  EXPECT_EQ(format_hms(360000), "100:00:00");
  EXPECT_EQ(format_hms(-1), "--:--:--");
  EXPECT_EQ(format_hms(NAN), "--:--:--");
  EXPECT_EQ(format_si(0), "0");
  EXPECT_EQ(format_si(950), "950");
  EXPECT_EQ(format_si(9500), "9.50k");
  EXPECT_EQ(format_si(12345), "12.3k");
  EXPECT_EQ(format_si(999999), "1.00M");  // rounding carries into the next unit
  EXPECT_EQ(format_si(1.2e6), "1.20M");
}

TEST(Progress, TerminalRedrawsThrottled) {
  MemStream m;
  double t = 0;
  ProgressOptions o;
  o.out = m.f, o.tty = 1, o.now = [&] { return t; };
  o.rate_window_s = 2;
  {
    ProgressBar bar("align", 100, 100000, o);
    // 1000 tokens every 0.1 s: 10k tok/s; redraws at most every 0.25 s.
    for (int s = 1; s <= 4; ++s) {
      t = s / 10.0;
      bar.update(s, s * 1000, 2.5, "lr 1e-3");
    }
    std::string out = m.text();
    EXPECT_EQ(count(out, '\r'), 2u) << out;  // at t = 0.1 (first) and 0.4
    EXPECT_EQ(count(out, '\n'), 0u) << out;
    const std::string line = out.substr(out.rfind('\r') + 1);
    EXPECT_NE(line.find("align 4/100 ["), std::string::npos) << line;
    EXPECT_NE(line.find("10.0k tok/s (avg 10.0k)"), std::string::npos) << line;
    EXPECT_NE(line.find("ETA 0:00:10"), std::string::npos) << line;  // 96k tokens at 10k/s
    EXPECT_NE(line.find("loss 2.5000 | lr 1e-3"), std::string::npos) << line;
    EXPECT_DOUBLE_EQ(bar.recent_tok_s(), 10000.0);

    // The rate slows to 5k tok/s: the recent average follows, the overall lags.
    for (int s = 5; s <= 60; ++s) {
      t += 0.2;
      bar.update(s, s * 1000, 2.0);
    }
    EXPECT_NEAR(bar.recent_tok_s(), 5000.0, 100.0);  // 11 s is 5.6 windows: 0.4% of the old rate left
    EXPECT_GT(bar.overall_tok_s(), bar.recent_tok_s() + 100.0);
    // The last step always draws, then finish ends the line.
    t += 0.01;
    bar.update(100, 100000, 1.5);
    out = m.text();
    EXPECT_NE(out.substr(out.rfind('\r')).find("100/100 [########################] 100%"),
              std::string::npos) << out;
    bar.finish();
    bar.finish();  // idempotent
    out = m.text();
    EXPECT_EQ(count(out, '\n'), 1u);
    EXPECT_EQ(out.back(), '\n');
    EXPECT_NE(out.substr(out.rfind('\r')).find("done in 0:00:12"), std::string::npos) << out;
  }
  EXPECT_EQ(count(m.text(), '\n'), 1u);  // a finished bar adds nothing at destruction
}

TEST(Progress, TerminalLineEndedAtDestruction) {
  MemStream m;
  double t = 0;
  ProgressOptions o;
  o.out = m.f, o.tty = 1, o.now = [&] { return t; };
  {
    ProgressBar bar("distill", 10, 0, o);
    t = 1;
    bar.update(1, 10, 1.0);
  }
  EXPECT_EQ(m.text().back(), '\n');  // later messages must not overwrite the bar
}

TEST(Progress, PlainLinesWhenNotATerminal) {
  MemStream m;
  double t = 0;
  ProgressOptions o;
  o.out = m.f, o.tty = 0, o.now = [&] { return t; };
  ProgressBar bar("distill", 25, 0, o);  // no token total: ETA from the step rate
  for (int s = 1; s <= 25; ++s) {
    t = s;
    bar.update(s, s * 512, 3.0);
  }
  std::string out = m.text();
  EXPECT_EQ(count(out, '\r'), 0u) << out;
  EXPECT_EQ(count(out, '\n'), 3u) << out;  // t = 1 (first), 11, 21: one line per 10 s
  EXPECT_NE(out.find("distill 11/25"), std::string::npos) << out;
  EXPECT_NE(out.find("ETA 0:00:14"), std::string::npos) << out;  // 14 steps at 1 step/s
  EXPECT_NE(out.find("512 tok/s"), std::string::npos) << out;
  bar.finish();
  out = m.text();
  EXPECT_EQ(count(out, '\n'), 4u) << out;
  EXPECT_NE(out.find("distill 25/25"), std::string::npos) << out;
  EXPECT_NE(out.find("done in 0:00:25"), std::string::npos) << out;
}

TEST(Progress, ResumedRunCountsOnlyItsOwnTokens) {
  MemStream m;
  double t = 0;
  ProgressOptions o;
  o.out = m.f, o.tty = 0, o.now = [&] { return t; };
  o.start_step = 50, o.start_tokens = 50000;
  ProgressBar bar("align", 100, 100000, o);
  t = 1;
  bar.update(51, 51000, 1.0);
  EXPECT_DOUBLE_EQ(bar.overall_tok_s(), 1000.0);
  EXPECT_DOUBLE_EQ(bar.recent_tok_s(), 1000.0);
  EXPECT_NE(bar.line().find("ETA 0:00:49"), std::string::npos) << bar.line();
}

}  // namespace
}  // namespace radlads
