// A small reader for Arrow IPC files, as the HF `datasets` library saves them
// (`data-00000-of-00001.arrow`: the streaming format; the "ARROW1" file format
// is accepted too). Only what evaluation data uses is decoded: utf8 strings,
// integers, and lists of strings; columns of other common types are skipped.
// Compressed bodies, dictionary encoding and big-endian files are rejected
// with an Error naming the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace radlads {

struct ArrowColumn {
  enum class Kind { Utf8, Int, Utf8List, Skipped };
  std::string name;
  Kind kind = Kind::Skipped;
  int arrow_type = 0;       // the flatbuffer Type union tag, for messages
  int64_t null_count = 0;   // over all record batches
  std::vector<std::string> strings;             // Kind::Utf8
  std::vector<int64_t> ints;                    // Kind::Int (widened)
  std::vector<std::vector<std::string>> lists;  // Kind::Utf8List
};

struct ArrowTable {
  std::string path;
  int64_t n_rows = 0;
  std::vector<ArrowColumn> columns;

  // The column called name, which must have that kind and no nulls; throws
  // Error naming the file otherwise.
  const ArrowColumn& column(std::string_view name, ArrowColumn::Kind kind) const;
};

// Reads every record batch of the file into memory; throws Error naming path.
ArrowTable read_arrow_ipc(const std::string& path);

// Same, from bytes already in memory (path is used in messages only).
ArrowTable parse_arrow_ipc(const uint8_t* data, size_t size, const std::string& path);

}  // namespace radlads
