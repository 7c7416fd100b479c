// MetricsLog, read_metrics and truncate_after_step.
#include "train/metrics_log.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "core/file_io.h"

namespace radlads {

namespace {

using nlohmann::json;

// A line of the file: its text and whether a '\n' ended it. Only the very
// last line can lack one, and only a kill mid-write leaves it so.
struct RawLine {
  std::string_view text;
  bool terminated;
};

std::vector<RawLine> split_lines(std::string_view all) {
  std::vector<RawLine> lines;
  size_t pos = 0;
  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    if (nl == std::string_view::npos) {
      lines.push_back({all.substr(pos), false});
      break;
    }
    lines.push_back({all.substr(pos, nl - pos), true});
    pos = nl + 1;
  }
  return lines;
}

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

std::optional<json> parse_object(std::string_view s) {
  json j = json::parse(s.begin(), s.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// The records of the file as (text, record) pairs, torn tail dropped; throws
// Error "path:line: ..." on any other bad line.
std::vector<std::pair<std::string_view, json>> parse_log(const std::string& path,
                                                         std::string_view all) {
  std::vector<std::pair<std::string_view, json>> out;
  const std::vector<RawLine> lines = split_lines(all);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (is_blank(lines[i].text)) continue;
    std::optional<json> j = parse_object(lines[i].text);
    if (!j) {
      if (!lines[i].terminated) break;  // torn by a kill mid-write: drop it
      std::string head(lines[i].text.substr(0, 60));
      fail("{}:{}: not a JSON object: '{}'", path, i + 1, head);
    }
    out.emplace_back(lines[i].text, std::move(*j));
  }
  return out;
}

// Keeps a NaN loss from making the line invalid JSON (nlohmann writes null),
// and invalid UTF-8 in a string field from throwing mid-training.
std::string dump_line(const json& record) {
  return record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

double step_of(const json& r) {
  auto it = r.find("step");
  return it != r.end() && it->is_number() ? it->get<double>() : -INFINITY;
}

std::string phase_of(const json& r) {
  auto it = r.find("phase");
  return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

MetricsLog::MetricsLog(const std::string& path, bool resume, int sync_every)
    : path_(path), sync_every_(std::max(1, sync_every)) {
  bool need_newline = false;
  if (resume && std::filesystem::exists(path)) {
    // Repair a torn tail so the next line does not glue onto it: a tail that
    // parses only lost its newline; anything else is cut back to the last one.
    const std::string all = read_text_file(path);
    if (!all.empty() && all.back() != '\n') {
      size_t nl = all.rfind('\n');
      size_t keep = nl == std::string::npos ? 0 : nl + 1;
      if (parse_object(std::string_view(all).substr(keep))) {
        need_newline = true;
      } else {
        std::error_code ec;
        std::filesystem::resize_file(path, keep, ec);
        if (ec) fail("{}: cannot cut torn last line: {}", path, ec.message());
      }
    }
  }
  f_ = std::fopen(path.c_str(), resume ? "ab" : "wb");
  if (!f_) fail("{}: cannot open for writing: {}", path, std::strerror(errno));
  if (need_newline) {
    try {
      write_bytes(f_, "\n", 1, path);
      sync();
    } catch (...) {
      std::fclose(f_);  // the destructor does not run for a throwing constructor
      throw;
    }
  }
}

MetricsLog::~MetricsLog() {
  if (!f_) return;
  // A destructor must not throw; a failed final sync only costs durability
  // of lines already handed to the kernel.
  std::fflush(f_);
  ::fsync(::fileno(f_));
  std::fclose(f_);
}

void MetricsLog::append(const json& record) {
  const std::string line = dump_line(record);
  // One fwrite of the whole line, newline last: a kill can only leave an
  // unterminated prefix, which the readers recognise as torn.
  write_bytes(f_, line.data(), line.size(), path_);
  if (std::fflush(f_) != 0) fail("{}: write failed: {}", path_, std::strerror(errno));
  if (++unsynced_ >= sync_every_) sync();
}

void MetricsLog::sync() {
  if (std::fflush(f_) != 0 || ::fsync(::fileno(f_)) != 0)
    fail("{}: write failed: {}", path_, std::strerror(errno));
  unsynced_ = 0;
}

std::vector<json> read_metrics(const std::string& path) {
  const std::string all = read_text_file(path);
  std::vector<json> out;
  for (auto& [text, j] : parse_log(path, all)) out.push_back(std::move(j));
  return out;
}

size_t truncate_after_step(const std::string& path, const std::string& phase, int64_t step) {
  if (!std::filesystem::exists(path)) return 0;
  const std::string all = read_text_file(path);
  const auto records = parse_log(path, all);
  size_t cut = records.size();
  bool seen_phase = false;
  std::string owner;  // the training phase an eval record belongs to
  for (size_t i = 0; i < records.size() && cut == records.size(); ++i) {
    const json& r = records[i].second;
    std::string p = phase_of(r);
    if (p == "eval") {
      auto of = r.find("of");
      p = of != r.end() && of->is_string() ? of->get<std::string>() : owner;
    } else {
      owner = p;
    }
    if (p == phase) {
      seen_phase = true;
      if (step_of(r) > double(step)) cut = i;
    } else if (seen_phase && !p.empty()) {
      cut = i;
    }
  }
  write_file_atomic(path, [&](std::FILE* f) {
    for (size_t i = 0; i < cut; ++i) {
      write_bytes(f, records[i].first.data(), records[i].first.size(), path);
      write_bytes(f, "\n", 1, path);
    }
  });
  return cut;
}

}  // namespace radlads
