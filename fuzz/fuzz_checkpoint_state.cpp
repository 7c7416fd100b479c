// A checkpoint's state.json (phase, step, the run config, checksums) and the
// run config it carries, as `--resume` reads them.
#include <nlohmann/json.hpp>

#include "fuzz_input.h"
#include "train/checkpoint.h"
#include "train/run_config.h"

using namespace radlads;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::write_file("ck/state.json", data, size);
  fuzz::expect_refusal_or_success([&] { (void)read_checkpoint_state(fuzz::work_dir() + "/ck"); });
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (!j.is_discarded()) {
    fuzz::expect_refusal_or_success([&] { (void)run_config_from_json(j); });
    if (j.is_object() && j.contains("config"))
      fuzz::expect_refusal_or_success([&] { (void)run_config_from_json(j["config"]); });
  }
  return 0;
}
