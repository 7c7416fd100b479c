// safetensors: the 8-byte header length, the JSON header (dtypes, shapes,
// offsets, metadata), and every tensor converted to fp32.
#include "fuzz_input.h"
#include "io/safetensors.h"

using namespace radlads;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_file("x.safetensors", data, size);
  fuzz::expect_refusal_or_success([&] {
    SafetensorsFile f(path);
    for (const StTensorInfo& t : f.tensors()) (void)f.load_f32(t);
  });
  return 0;
}
