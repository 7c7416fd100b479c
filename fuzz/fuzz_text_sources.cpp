// `data prepare` inputs: plain text (whole, or split at blank lines), JSONL
// and gzipped JSONL documents. The first byte picks the kind.
#include <vector>

#include "data/text_sources.h"
#include "fuzz_input.h"

using namespace radlads;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int kind = data[0] % 4;
  const uint8_t* body = data + 1;
  const size_t n = size - 1;
  std::string path;
  if (kind == 3) {  // gzipped JSONL
    const std::vector<uint8_t> gz = fuzz::gzip_bytes(body, n);
    path = fuzz::write_file("t.jsonl.gz", gz.data(), gz.size());
  } else {
    path = fuzz::write_file(kind == 2 ? "t.jsonl" : "t.txt", body, n);
  }
  fuzz::expect_refusal_or_success([&] {
    DocumentReader r({path}, kind == 1);
    SourceDocument d;
    for (int i = 0; i < 1000 && r.next(d); i++) {
    }
  });
  return 0;
}
