// An HF folder's config.json: the teacher config (Llama, Qwen2, hybrids) and,
// for a student's, its options (arch, ranks, flags).
#include <nlohmann/json.hpp>

#include "fuzz_input.h"
#include "models/model.h"
#include "models/student_options.h"

using namespace radlads;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_file("hf/config.json", data, size);
  const std::string dir = fuzz::work_dir() + "/hf";
  fuzz::expect_refusal_or_success([&] { (void)load_model_config(dir); });
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (!j.is_discarded()) fuzz::expect_refusal_or_success([&] { (void)student_options_from_json(j, path); });
  return 0;
}
