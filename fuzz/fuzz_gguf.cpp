// GGUF: the header (magic, version, counts, metadata of every type, nested
// arrays, tensor infos), then what `open_model` makes of it: the teacher or
// student config, every tensor dequantized, and the tokenizer in the metadata.
#include "fuzz_input.h"
#include "io/gguf.h"
#include "models/model.h"
#include "text/gguf_tokenizer.h"
#include "text/tokenizer.h"

using namespace radlads;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_file("x.gguf", data, size);
  fuzz::expect_refusal_or_success([&] {
    GgufFile f(path);
    for (const GgufTensorInfo& t : f.tensors())
      if (t.nbytes <= (size_t(1) << 20)) (void)f.load_f32(t);
    fuzz::expect_refusal_or_success([&] {
      Tokenizer tok(tokenizer_spec_from_gguf(f));
      const auto ids = tok.encode("Hello, world! 123 <|im_start|>");
      (void)tok.decode(ids);
    });
  });
  fuzz::expect_refusal_or_success([&] { (void)open_model(path); });
  return 0;
}
