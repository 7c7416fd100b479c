// Arrow IPC reader: encapsulated messages (Schema, then RecordBatches), each a
// flatbuffer followed by a body of buffers (format spec: arrow.apache.org,
// "Arrow Columnar Format", IPC section; Schema.fbs and Message.fbs).
#include "eval/arrow_ipc.h"

#include <cstring>
#include <limits>
#include <span>

#include "core/error.h"
#include "core/file_io.h"
#include "eval/flatbuffer.h"

namespace radlads {

namespace {

// Type union tags of Schema.fbs.
enum ArrowType : int {
  kNull = 1, kInt = 2, kFloat = 3, kBinary = 4, kUtf8 = 5, kBool = 6, kDecimal = 7, kDate = 8,
  kTime = 9, kTimestamp = 10, kInterval = 11, kList = 12, kStruct = 13, kUnion = 14,
  kFixedSizeBinary = 15, kFixedSizeList = 16, kMap = 17, kDuration = 18, kLargeBinary = 19,
  kLargeUtf8 = 20, kLargeList = 21,
};
// MessageHeader union tags of Message.fbs.
enum HeaderType : int { kSchema = 1, kDictionaryBatch = 2, kRecordBatch = 3 };

constexpr int kMaxNesting = 32;  // deeper field trees are surely corrupt; bounds our recursion

struct FieldDesc {
  std::string name;
  int type = 0;
  int bit_width = 0;
  bool is_signed = true;
  std::vector<FieldDesc> children;
};

FieldDesc parse_field(const FbTable& f, const std::string& path, int depth) {
  if (depth > kMaxNesting) fail("{}: Arrow schema nests deeper than {} levels", path, kMaxNesting);
  FieldDesc d;
  d.name = std::string(f.string(0, "field name"));
  d.type = f.scalar<uint8_t>(2, 0, "field type tag");
  if (f.has(4)) fail("{}: column '{}' is dictionary-encoded (not supported)", path, d.name);
  if (d.type == kInt) {
    FbTable t = f.table(3, "Int type");
    d.bit_width = t.scalar<int32_t>(0, 0, "Int bitWidth");
    d.is_signed = t.scalar<uint8_t>(1, 0, "Int is_signed") != 0;
    if (d.bit_width != 8 && d.bit_width != 16 && d.bit_width != 32 && d.bit_width != 64)
      fail("{}: column '{}' has integer width {}", path, d.name, d.bit_width);
  }
  FbVector ch = f.vector(5, 4, "field children");
  for (size_t i = 0; i < ch.size(); i++)
    d.children.push_back(parse_field(ch.table_at(i, "child field"), path, depth + 1));
  if ((d.type == kList || d.type == kLargeList || d.type == kFixedSizeList || d.type == kMap) &&
      d.children.size() != 1)
    fail("{}: list column '{}' has {} child fields, expected 1", path, d.name, d.children.size());
  return d;
}

bool is_string(int t) { return t == kUtf8 || t == kLargeUtf8; }

ArrowColumn::Kind kind_of(const FieldDesc& d) {
  if (is_string(d.type)) return ArrowColumn::Kind::Utf8;
  if (d.type == kInt) return ArrowColumn::Kind::Int;
  if ((d.type == kList || d.type == kLargeList) && is_string(d.children[0].type))
    return ArrowColumn::Kind::Utf8List;
  return ArrowColumn::Kind::Skipped;
}

// Walks one record batch's field nodes and buffers in schema pre-order.
class BatchCursor {
 public:
  BatchCursor(const FbTable& rb, std::span<const uint8_t> body, const std::string& path)
      : nodes_(rb.vector(1, 16, "RecordBatch nodes")),
        buffers_(rb.vector(2, 16, "RecordBatch buffers")),
        body_(body),
        path_(path) {}

  struct Node {
    int64_t length, null_count;
  };
  Node node(const std::string& col) {
    if (node_ >= nodes_.size()) fail("{}: record batch has too few field nodes (column '{}')", path_, col);
    Node n{nodes_.scalar_at<int64_t>(node_, 0, "node length"),
           nodes_.scalar_at<int64_t>(node_, 8, "node null count")};
    node_++;
    if (n.length < 0 || n.null_count < 0 || n.null_count > n.length)
      fail("{}: column '{}' has a node of length {} with {} nulls", path_, col, n.length, n.null_count);
    return n;
  }
  std::span<const uint8_t> buffer(const std::string& col) {
    if (buf_ >= buffers_.size()) fail("{}: record batch has too few buffers (column '{}')", path_, col);
    int64_t off = buffers_.scalar_at<int64_t>(buf_, 0, "buffer offset");
    int64_t len = buffers_.scalar_at<int64_t>(buf_, 8, "buffer length");
    buf_++;
    if (off < 0 || len < 0 || uint64_t(off) > body_.size() || uint64_t(len) > body_.size() - uint64_t(off))
      fail("{}: buffer [{}, +{}) of column '{}' is outside the {}-byte message body", path_, off, len,
           col, body_.size());
    return body_.subspan(size_t(off), size_t(len));
  }
  // Consumes the nodes and buffers of a column we do not decode.
  void skip(const FieldDesc& d, const std::string& col) {
    node(col);
    int n_buf;
    switch (d.type) {
      case kNull: n_buf = 0; break;
      case kInt: case kFloat: case kBool: case kDecimal: case kDate: case kTime: case kTimestamp:
      case kInterval: case kFixedSizeBinary: case kDuration: n_buf = 2; break;
      case kBinary: case kUtf8: case kLargeBinary: case kLargeUtf8: n_buf = 3; break;
      case kList: case kLargeList: case kMap: n_buf = 2; break;
      case kStruct: case kFixedSizeList: n_buf = 1; break;
      default: fail("{}: column '{}' has Arrow type {} (not supported)", path_, col, d.type);
    }
    for (int i = 0; i < n_buf; i++) buffer(col);
    for (const FieldDesc& c : d.children) skip(c, col);
  }

 private:
  FbVector nodes_, buffers_;
  std::span<const uint8_t> body_;
  const std::string& path_;
  size_t node_ = 0, buf_ = 0;
};

// Offsets (n+1 values of 32 or 64 bits), checked to rise within [0, limit].
std::vector<int64_t> read_offsets(std::span<const uint8_t> b, int64_t n, bool wide, int64_t limit,
                                  const std::string& path, const std::string& col) {
  if (n == 0 && b.empty()) return {0};  // writers may omit the offsets of an empty array
  const size_t w = wide ? 8 : 4;
  // Checked before allocating: n comes from the file and may be absurd.
  if (b.size() / w < size_t(n) + 1)
    fail("{}: column '{}': offsets buffer has {} bytes for {} values", path, col, b.size(), n);
  std::vector<int64_t> o(size_t(n) + 1, 0);
  for (int64_t i = 0; i <= n; i++) {
    if (wide) {
      std::memcpy(&o[size_t(i)], b.data() + i * 8, 8);
    } else {
      int32_t v;
      std::memcpy(&v, b.data() + i * 4, 4);
      o[size_t(i)] = v;
    }
    if (o[size_t(i)] < 0 || o[size_t(i)] > limit || (i > 0 && o[size_t(i)] < o[size_t(i) - 1]))
      fail("{}: column '{}': offset {} = {} is out of order or past the data ({} values)", path, col,
           i, o[size_t(i)], limit);
  }
  return o;
}

// A string array (node, validity, offsets, data) appended to out.
void read_strings(BatchCursor& cur, bool wide, int64_t expect_len, std::vector<std::string>& out,
                  int64_t& nulls, const std::string& path, const std::string& col) {
  auto n = cur.node(col);
  if (expect_len >= 0 && n.length != expect_len)
    fail("{}: column '{}' has {} values in a batch of {} rows", path, col, n.length, expect_len);
  nulls += n.null_count;
  cur.buffer(col);  // validity: nulls are counted from the node; their slots decode as ""
  auto offs_buf = cur.buffer(col);
  auto data = cur.buffer(col);
  auto o = read_offsets(offs_buf, n.length, wide, int64_t(data.size()), path, col);
  out.reserve(out.size() + size_t(n.length));
  for (int64_t i = 0; i < n.length; i++)
    out.emplace_back(reinterpret_cast<const char*>(data.data()) + o[size_t(i)],
                     size_t(o[size_t(i) + 1] - o[size_t(i)]));
}

void read_batch(const FbTable& rb, std::span<const uint8_t> body, const std::vector<FieldDesc>& fields,
                ArrowTable& t) {
  if (rb.has(3)) fail("{}: record batch is compressed (not supported)", t.path);
  int64_t rows = rb.scalar<int64_t>(0, 0, "RecordBatch length");
  if (rows < 0) fail("{}: record batch has {} rows", t.path, rows);
  BatchCursor cur(rb, body, t.path);
  for (size_t c = 0; c < fields.size(); c++) {
    const FieldDesc& d = fields[c];
    ArrowColumn& col = t.columns[c];
    switch (col.kind) {
      case ArrowColumn::Kind::Utf8:
        read_strings(cur, d.type == kLargeUtf8, rows, col.strings, col.null_count, t.path, d.name);
        break;
      case ArrowColumn::Kind::Int: {
        auto n = cur.node(d.name);
        if (n.length != rows) fail("{}: column '{}' has {} values in a batch of {} rows", t.path, d.name, n.length, rows);
        col.null_count += n.null_count;
        cur.buffer(d.name);
        auto data = cur.buffer(d.name);
        const size_t w = size_t(d.bit_width / 8);
        if (data.size() / w < size_t(rows))
          fail("{}: column '{}': data buffer has {} bytes for {} values", t.path, d.name, data.size(), rows);
        for (int64_t i = 0; i < rows; i++) {
          const uint8_t* p = data.data() + size_t(i) * w;
          int64_t v = 0;
          if (w == 1) v = d.is_signed ? int64_t(int8_t(p[0])) : int64_t(p[0]);
          if (w == 2) { int16_t s; std::memcpy(&s, p, 2); v = d.is_signed ? int64_t(s) : int64_t(uint16_t(s)); }
          if (w == 4) { int32_t s; std::memcpy(&s, p, 4); v = d.is_signed ? int64_t(s) : int64_t(uint32_t(s)); }
          if (w == 8) std::memcpy(&v, p, 8);
          col.ints.push_back(v);
        }
        break;
      }
      case ArrowColumn::Kind::Utf8List: {
        auto n = cur.node(d.name);
        if (n.length != rows) fail("{}: column '{}' has {} values in a batch of {} rows", t.path, d.name, n.length, rows);
        col.null_count += n.null_count;
        cur.buffer(d.name);
        auto offs_buf = cur.buffer(d.name);
        std::vector<std::string> items;
        int64_t item_nulls = 0;
        read_strings(cur, d.children[0].type == kLargeUtf8, -1, items, item_nulls, t.path, d.name);
        col.null_count += item_nulls;
        auto o = read_offsets(offs_buf, rows, d.type == kLargeList, int64_t(items.size()), t.path, d.name);
        for (int64_t i = 0; i < rows; i++)
          col.lists.emplace_back(items.begin() + o[size_t(i)], items.begin() + o[size_t(i) + 1]);
        break;
      }
      case ArrowColumn::Kind::Skipped:
        cur.skip(d, d.name);
        break;
    }
  }
  // Skipped columns are not checked against `rows`, so a table of only those
  // could claim any count: the total must still be a count.
  if (rows > std::numeric_limits<int64_t>::max() - t.n_rows)
    fail("{}: record batches claim more than 2^63 rows in all", t.path);
  t.n_rows += rows;
}

}  // namespace

const ArrowColumn& ArrowTable::column(std::string_view name, ArrowColumn::Kind kind) const {
  static const char* kinds[] = {"string", "integer", "list of strings", "unsupported"};
  for (const ArrowColumn& c : columns) {
    if (c.name != name) continue;
    if (c.kind != kind)
      fail("{}: column '{}' is {} (Arrow type {}), expected {}", path, name, kinds[int(c.kind)],
           c.arrow_type, kinds[int(kind)]);
    if (c.null_count > 0) fail("{}: column '{}' has {} null values", path, name, c.null_count);
    return c;
  }
  fail("{}: no column '{}'", path, name);
}

ArrowTable parse_arrow_ipc(const uint8_t* data, size_t size, const std::string& path) {
  ArrowTable t;
  t.path = path;
  size_t pos = 0;
  // The file format is the stream format framed by "ARROW1" magic and a footer;
  // reading the stream part from byte 8 gives the same batches.
  if (size >= 8 && std::memcmp(data, "ARROW1", 6) == 0) pos = 8;
  std::vector<FieldDesc> fields;
  bool have_schema = false;
  auto u32_at = [&](size_t p) {
    uint32_t v;
    std::memcpy(&v, data + p, 4);
    return v;
  };
  while (true) {
    if (pos == size) break;  // a stream may end without the end-of-stream marker
    if (size - pos < 4) fail("{}: truncated Arrow message header at offset {}", path, pos);
    uint32_t meta_len = u32_at(pos);
    pos += 4;
    if (meta_len == 0xFFFFFFFFu) {  // continuation marker (format >= 0.15), then the length
      if (size - pos < 4) fail("{}: truncated Arrow message header at offset {}", path, pos);
      meta_len = u32_at(pos);
      pos += 4;
    }
    if (meta_len == 0) break;  // end of stream
    if (meta_len > size - pos)
      fail("{}: Arrow message of {} bytes at offset {} runs past the end ({} bytes)", path, meta_len, pos, size);
    FlatBuf fb{{data + pos, meta_len}, &path};
    pos += meta_len;
    FbTable msg = FbTable::root(fb, "Message");
    int16_t version = msg.scalar<int16_t>(0, 0, "Message version");
    if (version < 3) fail("{}: Arrow metadata version V{} is too old (need V4 or V5)", path, version + 1);
    int htype = msg.scalar<uint8_t>(1, 0, "Message header type");
    int64_t body_len = msg.scalar<int64_t>(3, 0, "Message bodyLength");
    if (body_len < 0 || uint64_t(body_len) > size - pos)
      fail("{}: Arrow message body of {} bytes at offset {} runs past the end ({} bytes)", path, body_len, pos, size);
    std::span<const uint8_t> body(data + pos, size_t(body_len));
    pos += size_t(body_len);
    if (htype == kSchema) {
      if (have_schema) fail("{}: second Arrow schema in one stream", path);
      FbTable schema = msg.table(2, "Schema");
      if (schema.scalar<int16_t>(0, 0, "Schema endianness") != 0)
        fail("{}: big-endian Arrow data (not supported)", path);
      FbVector fv = schema.vector(1, 4, "Schema fields");
      for (size_t i = 0; i < fv.size(); i++) {
        fields.push_back(parse_field(fv.table_at(i, "field"), path, 0));
        ArrowColumn c;
        c.name = fields.back().name;
        c.arrow_type = fields.back().type;
        c.kind = kind_of(fields.back());
        t.columns.push_back(std::move(c));
      }
      have_schema = true;
    } else if (htype == kRecordBatch) {
      if (!have_schema) fail("{}: Arrow record batch before the schema", path);
      read_batch(msg.table(2, "RecordBatch"), body, fields, t);
    } else if (htype == kDictionaryBatch) {
      fail("{}: Arrow dictionary batches are not supported", path);
    } else {
      fail("{}: unexpected Arrow message type {}", path, htype);
    }
  }
  if (!have_schema) fail("{}: not an Arrow IPC file (no schema)", path);
  return t;
}

ArrowTable read_arrow_ipc(const std::string& path) {
  MappedFile f(path);
  return parse_arrow_ipc(f.bytes().data(), f.bytes().size(), path);
}

}  // namespace radlads
