// Arrow IPC files (the evaluation sets): the stream framing, the flatbuffer
// schema and record batches, buffers and offsets.
#include "eval/arrow_ipc.h"
#include "fuzz_input.h"

using namespace radlads;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::expect_refusal_or_success([&] { (void)parse_arrow_ipc(data, size, "fuzz.arrow"); });
  return 0;
}
