// .npy arrays (`score --logits-out` files read back by tools): magic,
// version, the header dict (descr, fortran_order, shape) and the data size.
#include "fuzz_input.h"
#include "io/npy.h"

using namespace radlads;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_file("x.npy", data, size);
  fuzz::expect_refusal_or_success([&] { (void)read_npy(path); });
  return 0;
}
