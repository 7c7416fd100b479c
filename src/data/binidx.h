// Megatron "binidx" token files, the format the RWKV/RADLADS reference trains
// from, so that data prepared by either side works with the other.
//   PREFIX.idx: "MMIDIDX\0\0", u64 version = 1, u8 dtype code, u64 n (docs),
//               u64 m (doc-index length), int32 sizes[n], int64 pointers[n]
//               (byte offsets into .bin), int64 doc_idx[m]; little-endian.
//   PREFIX.bin: the documents' tokens back to back (one flat stream).
// Training reads the flat stream and ignores document boundaries (the
// reference's data.get(idx=0, offset, length)), so read() crosses documents.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/file_io.h"

namespace radlads {

// Megatron dtype codes. Float codes exist in the format but are refused: token
// ids are integers, and code 7 means float64 in the RWKV copy of the reader
// but float32 in Megatron-core, so no reading of it could be trusted.
enum class TokenDtype : uint8_t {
  u8 = 1,
  i8 = 2,
  i16 = 3,
  i32 = 4,
  i64 = 5,
  u16 = 8,
};

int dtype_size(TokenDtype t);
const char* dtype_name(TokenDtype t);  // "uint16", "int32", ...
// uint16 (what RWKV-LM's make_data writes) when every id fits, else int32.
TokenDtype dtype_for_vocab(int64_t n_vocab);

// Streams documents into PREFIX.bin and writes PREFIX.idx at finish(). Each
// file appears complete or not at all: .bin is written to a temporary file
// and renamed, then .idx through write_file_atomic, so an .idx never points
// past its .bin. Destroyed without finish(), it removes its temporary file.
class BinidxWriter {
 public:
  BinidxWriter(std::string prefix, TokenDtype dtype);  // throws Error naming the file
  ~BinidxWriter();
  BinidxWriter(const BinidxWriter&) = delete;
  BinidxWriter& operator=(const BinidxWriter&) = delete;

  // Throws Error when a token does not fit the dtype or a document has more
  // than 2^31-1 tokens (sizes are int32 in the format).
  void add_document(std::span<const int32_t> tokens);
  void finish();

  int64_t n_docs() const { return int64_t(sizes_.size()); }
  int64_t n_tokens() const { return n_tokens_; }

 private:
  std::string prefix_, bin_tmp_;
  TokenDtype dtype_;
  std::FILE* bin_ = nullptr;
  std::vector<int32_t> sizes_;
  int64_t n_tokens_ = 0;
  std::vector<uint8_t> buf_;  // one document converted to the file dtype
};

// A read-only view of a binidx pair through memory maps. open() validates the
// whole index against the .bin (see binidx.cpp), so every later read is in
// bounds without further checks.
class TokenDataset {
 public:
  // PREFIX without extension; "x.bin" or "x.idx" are accepted too. Throws
  // Error "<file>: <what is wrong>".
  static TokenDataset open(const std::string& prefix);

  const std::string& prefix() const { return prefix_; }
  TokenDtype dtype() const { return dtype_; }
  int64_t n_docs() const { return n_docs_; }
  int64_t n_tokens() const { return n_tokens_; }
  int64_t doc_size(int64_t i) const;    // tokens in document i
  int64_t doc_offset(int64_t i) const;  // index of its first token in the flat stream
  std::vector<int64_t> doc_index() const;  // Megatron's doc_idx, usually 0..n_docs

  std::vector<int32_t> doc(int64_t i) const;
  // Tokens [offset, offset + n) of the flat stream, across documents,
  // converted to int32. CHECKs the range; throws Error on an int64 token that
  // does not fit int32.
  void read(int64_t offset, int64_t n, int32_t* out) const;

 private:
  TokenDataset() = default;
  std::string prefix_;
  std::shared_ptr<MappedFile> idx_, bin_;  // shared: datasets are cheap to copy
  TokenDtype dtype_ = TokenDtype::u16;
  int64_t n_docs_ = 0, n_tokens_ = 0, doc_idx_len_ = 0;
  // The arrays start at byte 34 of the .idx, so they are misaligned: read
  // through memcpy (binidx.cpp), never by casting these pointers.
  const uint8_t* sizes_ = nullptr;
  const uint8_t* pointers_ = nullptr;
  const uint8_t* doc_idx_ = nullptr;
  const uint8_t* tokens_ = nullptr;
};

}  // namespace radlads
