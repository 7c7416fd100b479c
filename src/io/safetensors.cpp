// Safetensors reader and writer. Format: u64 little-endian header length, a
// JSON header {name: {dtype, shape, data_offsets:[begin,end]}, __metadata__},
// then the data section.
#include "io/safetensors.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

#include "core/byte_reader.h"
#include "core/error.h"
#include "core/fp16.h"
#include "io/json_file.h"

namespace radlads {

namespace fs = std::filesystem;
using json = nlohmann::json;

const char* st_dtype_name(StDtype d) {
  switch (d) {
    case StDtype::F32: return "F32";
    case StDtype::F16: return "F16";
    case StDtype::BF16: return "BF16";
  }
  return "?";
}

static size_t st_dtype_size(StDtype d) { return d == StDtype::F32 ? 4 : 2; }

StDtype st_dtype_from_name(const std::string& s, const std::string& path) {
  if (s == "F32") return StDtype::F32;
  if (s == "F16") return StDtype::F16;
  if (s == "BF16") return StDtype::BF16;
  fail("{}: unsupported safetensors dtype '{}' (supported: F32, F16, BF16)", path, s);
}

SafetensorsFile::SafetensorsFile(const std::string& path)
    : file_(std::make_shared<MappedFile>(path)) {
  ByteReader r(file_->bytes(), path);
  uint64_t hlen = r.read<uint64_t>("header length");
  if (hlen > r.size() - r.pos()) fail("{}: header length {} is past the end of the file", path, hlen);
  std::string_view htext = r.read_bytes(hlen, "header");
  data_start_ = r.pos();
  const size_t data_size = r.size() - data_start_;
  json h;
  try {
    h = json::parse(htext);
  } catch (const json::exception& e) {
    fail("{}: header is not valid JSON: {}", path, e.what());
  }
  if (!h.is_object()) fail("{}: header is not a JSON object", path);
  for (auto& [name, v] : h.items()) {
    if (name == "__metadata__") {
      if (!v.is_object()) fail("{}: __metadata__ is not an object", path);
      for (auto& [k, mv] : v.items()) {
        if (!mv.is_string()) fail("{}: __metadata__.{} is not a string", path, k);
        meta_[k] = mv.get<std::string>();
      }
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
        !v.contains("data_offsets") || !v["dtype"].is_string() || !v["shape"].is_array() ||
        !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
      fail("{}: tensor '{}': needs dtype, shape and data_offsets [begin, end]", path, name);
    StTensorInfo t;
    t.name = name;
    t.dtype = st_dtype_from_name(v["dtype"].get<std::string>(), path);
    uint64_t n = 1;
    for (auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) fail("{}: tensor '{}': shape must hold non-negative integers", path, name);
      uint64_t x = d.get<uint64_t>();
      if (x != 0 && n > (uint64_t(1) << 40) / x) fail("{}: tensor '{}': shape is absurdly large", path, name);
      n *= x;
      t.shape.push_back(int64_t(x));
    }
    auto& off = v["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail("{}: tensor '{}': data_offsets must be non-negative integers", path, name);
    t.begin = off[0].get<uint64_t>();
    t.end = off[1].get<uint64_t>();
    if (t.begin > t.end || t.end > data_size)
      fail("{}: tensor '{}': data_offsets [{}, {}] lie outside the data section ({} bytes)", path,
           name, t.begin, t.end, data_size);
    if (t.end - t.begin != n * st_dtype_size(t.dtype))
      fail("{}: tensor '{}': {} bytes do not match shape {} of {}", path, name, t.end - t.begin,
           shape_str(t.shape), st_dtype_name(t.dtype));
    tensors_.push_back(std::move(t));
  }
}

const StTensorInfo* SafetensorsFile::find(std::string_view name) const {
  for (auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

Tensor SafetensorsFile::load_f32(const StTensorInfo& t) const {
  Tensor out(t.shape);
  const uint8_t* p = file_->bytes().data() + data_start_ + t.begin;
  const int64_t n = out.numel();
  float* o = out.ptr();
  switch (t.dtype) {
    case StDtype::F32: std::memcpy(o, p, size_t(n) * 4); break;
    case StDtype::F16:
      for (int64_t i = 0; i < n; i++) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        o[i] = f16_to_f32(h);
      }
      break;
    case StDtype::BF16:
      for (int64_t i = 0; i < n; i++) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        o[i] = bf16_to_f32(h);
      }
      break;
  }
  return out;
}

std::map<std::string, Tensor> load_safetensors_dir(const std::string& dir,
                                                   std::map<std::string, int64_t>* dtype_counts) {
  std::vector<std::string> files;
  fs::path index = fs::path(dir) / "model.safetensors.index.json";
  if (fs::exists(index)) {
    const json j = read_json_file(index.string());
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      fail("{}: missing object 'weight_map'", index.string());
    std::set<std::string> shards;
    for (auto& [name, f] : j["weight_map"].items()) {
      if (!f.is_string()) fail("{}: weight_map.{} is not a file name", index.string(), name);
      std::string s = f.get<std::string>();
      if (s.find('/') != std::string::npos || s.find("..") != std::string::npos)
        fail("{}: weight_map.{}: shard name '{}' must be a plain file name", index.string(), name, s);
      shards.insert(s);
    }
    for (auto& s : shards) files.push_back((fs::path(dir) / s).string());
  } else {
    fs::path single = fs::path(dir) / "model.safetensors";
    if (!fs::exists(single)) fail("{}: no model.safetensors or model.safetensors.index.json", dir);
    files.push_back(single.string());
  }
  std::map<std::string, Tensor> out;
  for (auto& f : files) {
    SafetensorsFile st(f);
    for (auto& t : st.tensors()) {
      if (out.count(t.name)) fail("{}: tensor '{}' appears in more than one shard", f, t.name);
      out.emplace(t.name, st.load_f32(t));
      if (dtype_counts) (*dtype_counts)[st_dtype_name(t.dtype)]++;
    }
  }
  return out;
}

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                       StDtype dtype, const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<std::string, TensorView>> views;
  for (auto& [name, t] : tensors) views.push_back({name, t->view()});
  write_safetensors(path, views, dtype, metadata);
}

namespace {

// The header of tensors laid out back to back in the given order, padded so
// that the data section is 8-byte aligned.
std::string st_header(const std::vector<std::pair<std::string, Shape>>& specs, StDtype dtype,
                      const std::map<std::string, std::string>& metadata) {
  json h = json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  size_t off = 0;
  const size_t es = st_dtype_size(dtype);
  for (auto& [name, shape] : specs) {
    CHECK(!h.contains(name), "duplicate tensor {}", name);
    size_t nb = size_t(numel(shape)) * es;
    h[name] = {{"dtype", st_dtype_name(dtype)}, {"shape", shape}, {"data_offsets", {off, off + nb}}};
    off += nb;
  }
  std::string htext = h.dump();
  htext.append((8 - htext.size() % 8) % 8, ' ');
  return htext;
}

void write_header(std::FILE* f, const std::string& htext, const std::string& path) {
  uint64_t hlen = htext.size();
  write_bytes(f, &hlen, 8, path);
  write_bytes(f, htext.data(), htext.size(), path);
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, TensorView>>& tensors,
                       StDtype dtype, const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<std::string, Shape>> specs;
  for (auto& [name, t] : tensors) specs.push_back({name, t.shape});
  const std::string htext = st_header(specs, dtype, metadata);
  write_file_atomic(path, [&](std::FILE* f) {
    write_header(f, htext, path);
    std::vector<uint16_t> buf;
    for (auto& [name, t] : tensors) {
      const float* x = t.f32();
      if (dtype == StDtype::F32) {
        write_bytes(f, x, size_t(t.numel()) * 4, path);
        continue;
      }
      buf.resize(size_t(t.numel()));
      for (int64_t i = 0; i < t.numel(); i++) buf[size_t(i)] = dtype == StDtype::F16 ? f32_to_f16(x[i]) : f32_to_bf16(x[i]);
      write_bytes(f, buf.data(), buf.size() * 2, path);
    }
  });
}

void write_safetensors_f32(const std::string& path, const std::vector<std::pair<std::string, Shape>>& specs,
                           const std::function<void(size_t, float*)>& fill) {
  const std::string htext = st_header(specs, StDtype::F32, {});
  write_file_atomic(path, [&](std::FILE* f) {
    write_header(f, htext, path);
    std::vector<float> buf;
    for (size_t i = 0; i < specs.size(); i++) {
      buf.resize(size_t(numel(specs[i].second)));
      fill(i, buf.data());
      write_bytes(f, buf.data(), buf.size() * sizeof(float), path);
    }
  });
}

void SafetensorsFile::read_f32(const StTensorInfo& t, int64_t first, int64_t count, float* dst) const {
  CHECK(t.dtype == StDtype::F32, "{}: {} is {}, a range read needs F32", path(), t.name, st_dtype_name(t.dtype));
  CHECK(first >= 0 && count >= 0 && first + count <= numel(t.shape), "{}: elements [{}, {}) of {} ({} elements)",
        path(), first, first + count, t.name, numel(t.shape));
  std::memcpy(dst, file_->bytes().data() + data_start_ + t.begin + size_t(first) * 4, size_t(count) * 4);
}

}  // namespace radlads
