// Megatron binidx datasets: the .idx (magic, version, dtype, counts, sizes,
// pointers, document index) against its .bin. The input's first two bytes
// say where the .idx ends and the .bin begins.
#include <algorithm>

#include "data/binidx.h"
#include "fuzz_input.h"

using namespace radlads;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t split = std::min(size - 2, size_t(data[0]) | (size_t(data[1]) << 8));
  fuzz::write_file("d.idx", data + 2, split);
  fuzz::write_file("d.bin", data + 2 + split, size - 2 - split);
  fuzz::expect_refusal_or_success([&] {
    TokenDataset d = TokenDataset::open(fuzz::work_dir() + "/d");
    std::vector<int32_t> buf(64);
    const int64_t n = std::min<int64_t>(d.n_tokens(), 64);
    d.read(0, n, buf.data());
    (void)d.doc_index();
    for (int64_t i = 0; i < std::min<int64_t>(d.n_docs(), 4); i++) (void)d.doc(i);
  });
  return 0;
}
