// Binidx writer and validating reader.
#include "data/binidx.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace radlads {

namespace {

constexpr char kMagic[9] = {'M', 'M', 'I', 'D', 'I', 'D', 'X', '\0', '\0'};
constexpr size_t kHeader = 9 + 8 + 1 + 8 + 8;  // magic, version, dtype, n, m

template <typename T>
T load(const uint8_t* p, int64_t i) {
  T v;
  std::memcpy(&v, p + i * int64_t(sizeof(T)), sizeof(T));
  return v;
}

bool ends_with(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// Converts n tokens of type T to int32; int64 ids outside int32 are an error
// (no tokenizer has 2^31 tokens, so such a value means a foreign file).
template <typename T>
void convert(const uint8_t* src, int64_t n, int32_t* out, const std::string& prefix) {
  for (int64_t i = 0; i < n; ++i) {
    const T v = load<T>(src, i);
    if constexpr (sizeof(T) == 8) {
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
        fail("{}.bin: token {} does not fit int32", prefix, int64_t(v));
    }
    out[i] = int32_t(v);
  }
}

// Checks that every token fits the dtype, then writes it in that dtype.
template <typename T>
void pack(std::span<const int32_t> tokens, std::vector<uint8_t>& buf, const std::string& path) {
  buf.resize(tokens.size() * sizeof(T));
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t v = tokens[i];
    if (v < int64_t(std::numeric_limits<T>::min()) || v > int64_t(std::numeric_limits<T>::max()))
      fail("{}: token {} does not fit the file's dtype", path, v);
    const T t = T(v);
    std::memcpy(buf.data() + i * sizeof(T), &t, sizeof(T));
  }
}

}  // namespace

int dtype_size(TokenDtype t) {
  switch (t) {
    case TokenDtype::u8:
    case TokenDtype::i8: return 1;
    case TokenDtype::i16:
    case TokenDtype::u16: return 2;
    case TokenDtype::i32: return 4;
    case TokenDtype::i64: return 8;
  }
  CHECK(false, "bad dtype {}", int(t));
}

const char* dtype_name(TokenDtype t) {
  switch (t) {
    case TokenDtype::u8: return "uint8";
    case TokenDtype::i8: return "int8";
    case TokenDtype::i16: return "int16";
    case TokenDtype::i32: return "int32";
    case TokenDtype::i64: return "int64";
    case TokenDtype::u16: return "uint16";
  }
  CHECK(false, "bad dtype {}", int(t));
}

TokenDtype dtype_for_vocab(int64_t n_vocab) { return n_vocab <= 65536 ? TokenDtype::u16 : TokenDtype::i32; }

// ---- writer ----

BinidxWriter::BinidxWriter(std::string prefix, TokenDtype dtype) : prefix_(std::move(prefix)), dtype_(dtype) {
  bin_tmp_ = prefix_ + ".bin.tmp." + std::to_string(::getpid());
  bin_ = std::fopen(bin_tmp_.c_str(), "wb");
  if (!bin_) fail("{}: cannot create: {}", bin_tmp_, std::strerror(errno));
}

BinidxWriter::~BinidxWriter() {
  if (bin_) {
    std::fclose(bin_);
    std::remove(bin_tmp_.c_str());
  }
}

void BinidxWriter::add_document(std::span<const int32_t> tokens) {
  CHECK(bin_, "{}: add_document after finish", prefix_);
  if (tokens.size() > size_t(std::numeric_limits<int32_t>::max()))
    fail("{}.bin: a document of {} tokens exceeds the format's int32 size", prefix_, tokens.size());
  const std::string path = prefix_ + ".bin";
  switch (dtype_) {
    case TokenDtype::u8: pack<uint8_t>(tokens, buf_, path); break;
    case TokenDtype::i8: pack<int8_t>(tokens, buf_, path); break;
    case TokenDtype::i16: pack<int16_t>(tokens, buf_, path); break;
    case TokenDtype::u16: pack<uint16_t>(tokens, buf_, path); break;
    case TokenDtype::i32: pack<int32_t>(tokens, buf_, path); break;
    case TokenDtype::i64: pack<int64_t>(tokens, buf_, path); break;
  }
  write_bytes(bin_, buf_.data(), buf_.size(), bin_tmp_);
  sizes_.push_back(int32_t(tokens.size()));
  n_tokens_ += int64_t(tokens.size());
}

void BinidxWriter::finish() {
  CHECK(bin_, "{}: finish called twice", prefix_);
  const std::string bin_path = prefix_ + ".bin";
  if (std::fflush(bin_) != 0 || ::fsync(::fileno(bin_)) != 0)
    fail("{}: write failed: {}", bin_path, std::strerror(errno));
  std::fclose(bin_);
  bin_ = nullptr;
  if (std::rename(bin_tmp_.c_str(), bin_path.c_str()) != 0) {
    int e = errno;
    std::remove(bin_tmp_.c_str());
    fail("{}: cannot rename temporary file: {}", bin_path, std::strerror(e));
  }
  // Megatron's builder: pointers are running byte offsets; doc_idx starts at 0
  // and gets len(sizes) after each end_document, i.e. 0, 1, ..., n.
  const uint64_t n = sizes_.size();
  std::vector<int64_t> pointers(n), doc_idx(n + 1);
  int64_t addr = 0;
  for (uint64_t i = 0; i < n; ++i) {
    pointers[i] = addr;
    addr += int64_t(sizes_[i]) * dtype_size(dtype_);
    doc_idx[i + 1] = int64_t(i + 1);
  }
  const std::string idx_path = prefix_ + ".idx";
  try {
    write_file_atomic(idx_path, [&](std::FILE* f) {
      const uint64_t version = 1, m = doc_idx.size();
      const uint8_t code = uint8_t(dtype_);
      write_bytes(f, kMagic, sizeof kMagic, idx_path);
      write_bytes(f, &version, 8, idx_path);
      write_bytes(f, &code, 1, idx_path);
      write_bytes(f, &n, 8, idx_path);
      write_bytes(f, &m, 8, idx_path);
      write_bytes(f, sizes_.data(), n * 4, idx_path);
      write_bytes(f, pointers.data(), n * 8, idx_path);
      write_bytes(f, doc_idx.data(), m * 8, idx_path);
    });
  } catch (...) {
    std::remove(bin_path.c_str());  // a .bin without its .idx is no dataset
    throw;
  }
}

// ---- reader ----

TokenDataset TokenDataset::open(const std::string& prefix_arg) {
  TokenDataset d;
  d.prefix_ = prefix_arg;
  if (ends_with(prefix_arg, ".bin") || ends_with(prefix_arg, ".idx"))
    d.prefix_ = prefix_arg.substr(0, prefix_arg.size() - 4);
  const std::string idx_path = d.prefix_ + ".idx", bin_path = d.prefix_ + ".bin";
  d.idx_ = std::make_shared<MappedFile>(idx_path);
  d.bin_ = std::make_shared<MappedFile>(bin_path);
  const auto idx = d.idx_->bytes();
  const uint8_t* p = idx.data();

  if (idx.size() < kHeader) fail("{}: truncated header ({} bytes, need {})", idx_path, idx.size(), kHeader);
  if (std::memcmp(p, kMagic, sizeof kMagic) != 0) fail("{}: bad magic (not a Megatron MMIDIDX index)", idx_path);
  const uint64_t version = load<uint64_t>(p + 9, 0);
  if (version != 1) fail("{}: unsupported version {} (expected 1)", idx_path, version);
  const uint8_t code = p[17];
  if (code == 6 || code == 7) fail("{}: float dtype code {} is not supported for token ids", idx_path, code);
  if (code < 1 || code > 8) fail("{}: unknown dtype code {}", idx_path, code);
  d.dtype_ = TokenDtype(code);
  const uint64_t n = load<uint64_t>(p + 18, 0), m = load<uint64_t>(p + 26, 0);

  // Exact size: catches truncation, trailing bytes and absurd counts alike.
  // The division bounds keep the product from overflowing.
  const uint64_t body = idx.size() - kHeader;
  if (n > body / 12 || m > body / 8 || kHeader + 12 * n + 8 * m != idx.size())
    fail("{}: file is {} bytes but its {} documents and doc-index length {} need {}", idx_path, idx.size(), n,
         m, n > body / 12 || m > body / 8 ? std::string("more") : std::to_string(kHeader + 12 * n + 8 * m));
  d.n_docs_ = int64_t(n);
  d.doc_idx_len_ = int64_t(m);
  d.sizes_ = p + kHeader;
  d.pointers_ = d.sizes_ + 4 * n;
  d.doc_idx_ = d.pointers_ + 8 * n;

  // Pointers must be the running byte offsets of the sizes (what every
  // Megatron/RWKV writer produces); anything else would make doc(i) and the
  // flat stream disagree.
  const int64_t es = dtype_size(d.dtype_);
  int64_t expect = 0;
  for (int64_t i = 0; i < d.n_docs_; ++i) {
    const int32_t s = load<int32_t>(d.sizes_, i);
    if (s < 0) fail("{}: document {} has negative size {}", idx_path, i, s);
    const int64_t ptr = load<int64_t>(d.pointers_, i);
    if (ptr != expect)
      fail("{}: document {} pointer {} is inconsistent with the sizes (expected {})", idx_path, i, ptr, expect);
    expect += int64_t(s) * es;
    d.n_tokens_ += s;
  }
  if (int64_t(d.bin_->bytes().size()) != expect)
    fail("{}: file is {} bytes but {} lists {} tokens of {} ({} bytes)", bin_path, d.bin_->bytes().size(),
         idx_path, d.n_tokens_, dtype_name(d.dtype_), expect);
  int64_t prev = 0;
  for (int64_t i = 0; i < d.doc_idx_len_; ++i) {
    const int64_t v = load<int64_t>(d.doc_idx_, i);
    if ((i == 0 && v != 0) || v < prev || v > d.n_docs_)
      fail("{}: doc_idx[{}] = {} is not a non-decreasing index from 0 to {}", idx_path, i, v, d.n_docs_);
    prev = v;
  }
  d.tokens_ = d.bin_->bytes().data();
  return d;
}

int64_t TokenDataset::doc_size(int64_t i) const {
  CHECK(i >= 0 && i < n_docs_, "document {} out of range [0, {})", i, n_docs_);
  return load<int32_t>(sizes_, i);
}

int64_t TokenDataset::doc_offset(int64_t i) const {
  CHECK(i >= 0 && i < n_docs_, "document {} out of range [0, {})", i, n_docs_);
  return load<int64_t>(pointers_, i) / dtype_size(dtype_);
}

std::vector<int64_t> TokenDataset::doc_index() const {
  std::vector<int64_t> v(static_cast<size_t>(doc_idx_len_));
  for (int64_t i = 0; i < doc_idx_len_; ++i) v[size_t(i)] = load<int64_t>(doc_idx_, i);
  return v;
}

std::vector<int32_t> TokenDataset::doc(int64_t i) const {
  std::vector<int32_t> out(size_t(doc_size(i)));
  read(doc_offset(i), int64_t(out.size()), out.data());
  return out;
}

void TokenDataset::read(int64_t offset, int64_t n, int32_t* out) const {
  CHECK(offset >= 0 && n >= 0 && offset <= n_tokens_ - n, "{}: read [{}, +{}) outside [0, {})", prefix_, offset,
        n, n_tokens_);
  const uint8_t* src = tokens_ + offset * dtype_size(dtype_);
  switch (dtype_) {
    case TokenDtype::u8: convert<uint8_t>(src, n, out, prefix_); break;
    case TokenDtype::i8: convert<int8_t>(src, n, out, prefix_); break;
    case TokenDtype::i16: convert<int16_t>(src, n, out, prefix_); break;
    case TokenDtype::u16: convert<uint16_t>(src, n, out, prefix_); break;
    case TokenDtype::i32: convert<int32_t>(src, n, out, prefix_); break;
    case TokenDtype::i64: convert<int64_t>(src, n, out, prefix_); break;
  }
}

}  // namespace radlads
