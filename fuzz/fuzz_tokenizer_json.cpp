// An HF folder's tokenizer.json: the BPE model (vocab, merges), added tokens,
// the pre-tokenizer's split regexes; then the tokenizer built from it encodes
// and decodes a little text.
#include "fuzz_input.h"
#include "text/hf_tokenizer.h"
#include "text/tokenizer.h"

using namespace radlads;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::write_file("tok/tokenizer.json", data, size);
  fuzz::expect_refusal_or_success([&] {
    Tokenizer tok(tokenizer_spec_from_hf(fuzz::work_dir() + "/tok"));
    const auto ids = tok.encode("Hello, world! 123  \n\t<|endoftext|> ünïcödé");
    (void)tok.decode(ids);
  });
  return 0;
}
