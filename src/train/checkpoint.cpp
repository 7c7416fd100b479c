#include "train/checkpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"
#include "models/hf_folder.h"
#include "io/safetensors.h"

namespace radlads {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Read through a 4 MB buffer, not mapped: a mapping of the 2 GB optimizer file
// would count in the process's resident memory while the CRC runs.
uint32_t file_crc32(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("{}: cannot open", path);
  uLong crc = crc32(0L, Z_NULL, 0);
  std::vector<unsigned char> buf(size_t(4) << 20);
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) crc = crc32(crc, buf.data(), uInt(n));
  const bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) fail("{}: read error", path);
  return uint32_t(crc);
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void write_text_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, [&](std::FILE* f) { write_bytes(f, text.data(), text.size(), path); });
}

const char* kCheckedFiles[] = {"model/model.safetensors", "model/config.json", "optimizer.safetensors"};

// Moment `which` (0: m, 1: v) of tensor i, on rank 0: its own pieces copied,
// the others received from their owners in rank order (stream_moments is
// the senders' side of the same loop).
void gather_moment(Comm& comm, const ParamSet& p, const AdamW& opt, size_t i, int which, float* dst) {
  const int64_t o = p.flat_offset(i), n = p.grads.numel(i);
  const std::vector<int64_t> whole = {0, p.grads.flat_numel()};
  const std::vector<int64_t>& b = p.sharded() ? p.bounds() : whole;
  for (size_t q = 0; q + 1 < b.size(); q++) {
    const int64_t lo = std::max(o, b[q]), hi = std::min(o + n, b[q + 1]);
    if (lo >= hi) continue;
    if (q == 0)  // (the moments live in the backend's memory)
      p.be->to_host(dst + (lo - o), which ? opt.v_at(lo) : opt.m_at(lo), size_t(hi - lo) * sizeof(float));
    else
      comm.recv(dst + (lo - o), size_t(hi - lo) * sizeof(float), int(q));
  }
}

void stream_moments(Comm& comm, const ParamSet& p, const AdamW& opt) {
  for (const ParamSet::Piece& q : p.own_pieces())
    for (int which = 0; which < 2; which++)
      comm.send(which ? opt.v_at(q.flat) : opt.m_at(q.flat), size_t(q.count) * sizeof(float), 0);
}

}  // namespace

std::string save_checkpoint(Comm& comm, const std::string& ckpt_dir, const Model& student, const ParamSet& params,
                            const AdamW& opt, const TrainState& st, int keep) {
  if (comm.rank() != 0) {
    if (params.sharded()) stream_moments(comm, params, opt);
    return "";
  }
  std::error_code ec;
  fs::create_directories(ckpt_dir, ec);
  const std::string name = fmt::format("{}-{:06d}", st.phase, st.step);
  const std::string final_dir = (fs::path(ckpt_dir) / name).string();
  const std::string tmp = final_dir + ".tmp." + std::to_string(::getpid());
  fs::remove_all(tmp, ec);
  if (!fs::create_directories(tmp, ec)) fail("{}: cannot create: {}", tmp, ec.message());
  try {
    save_model_hf(student, (fs::path(tmp) / "model").string());
    std::vector<std::pair<std::string, Shape>> specs;  // m.<name>, v.<name> per tensor
    for (size_t i = 0; i < params.names.size(); i++) {
      specs.push_back({"m." + params.names[i], params.grads.spec(i).shape});
      specs.push_back({"v." + params.names[i], params.grads.spec(i).shape});
    }
    write_safetensors_f32((fs::path(tmp) / "optimizer.safetensors").string(), specs,
                          [&](size_t k, float* dst) { gather_moment(comm, params, opt, k / 2, int(k % 2), dst); });
    json s = {{"phase", st.phase}, {"step", st.step},   {"total_steps", st.total_steps},
              {"tokens", st.tokens}, {"adam_t", opt.t}, {"config", st.config}};
    json crc = json::object();
    for (const char* f : kCheckedFiles) crc[f] = file_crc32((fs::path(tmp) / f).string());
    s["crc32"] = crc;
    write_text_atomic((fs::path(tmp) / "state.json").string(), s.dump(2) + "\n");
    fsync_dir((fs::path(tmp) / "model").string());
    fsync_dir(tmp);
    fs::remove_all(final_dir, ec);  // a stale one from a run killed after its rename
    fs::rename(tmp, final_dir);
    fsync_dir(ckpt_dir);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  write_text_atomic((fs::path(ckpt_dir) / "latest").string(), name + "\n");
  fsync_dir(ckpt_dir);
  // Keep the newest `keep` checkpoints (by modification order of their names' steps is not
  // monotone across phases, so use the order they were written: directory mtime).
  std::vector<fs::directory_entry> all;
  for (auto& e : fs::directory_iterator(ckpt_dir, ec))
    if (e.is_directory() && e.path().filename().string().find(".tmp.") == std::string::npos) all.push_back(e);
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.last_write_time() > b.last_write_time(); });
  for (size_t i = 0; i < all.size(); i++)
    if (i >= size_t(keep) && all[i].path().filename() != name) fs::remove_all(all[i].path(), ec);
  return final_dir;
}

std::optional<std::string> latest_checkpoint(const std::string& ckpt_dir) {
  const std::string p = (fs::path(ckpt_dir) / "latest").string();
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::nullopt;
  std::string name = read_text_file(p);
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  if (name.empty() || name.find('/') != std::string::npos) fail("{}: corrupt (no checkpoint name)", p);
  const std::string dir = (fs::path(ckpt_dir) / name).string();
  if (!fs::is_directory(dir, ec)) fail("{}: names {}, which does not exist", p, dir);
  return dir;
}

TrainState read_checkpoint_state(const std::string& ckpt) {
  const std::string p = (fs::path(ckpt) / "state.json").string();
  json s;
  try {
    s = json::parse(read_text_file(p));
  } catch (const json::exception& e) {
    fail("{}: corrupt checkpoint state: {}", p, e.what());
  }
  TrainState st;
  try {
    st.phase = s.at("phase").get<std::string>();
    st.step = s.at("step").get<int64_t>();
    st.total_steps = s.at("total_steps").get<int64_t>();
    st.tokens = s.at("tokens").get<int64_t>();
    st.config = s.at("config");
    for (const char* f : kCheckedFiles) {
      const std::string fp = (fs::path(ckpt) / f).string();
      std::error_code ec;
      if (!fs::exists(fp, ec)) fail("{}: missing from the checkpoint", fp);
      const uint32_t want = s.at("crc32").at(f).get<uint32_t>(), got = file_crc32(fp);
      if (want != got) fail("{}: checksum mismatch (CRC-32 {:08x}, expected {:08x}): the checkpoint is corrupt", fp, got, want);
    }
  } catch (const json::exception& e) {
    fail("{}: corrupt checkpoint state: {}", p, e.what());
  }
  return st;
}

void load_optimizer_state(const std::string& ckpt, const ParamSet& params, AdamW& opt) {
  const std::string p = (fs::path(ckpt) / "optimizer.safetensors").string();
  SafetensorsFile f(p);
  // This rank's range only: every rank reads the checkpoint it resumes from.
  for (size_t i = 0; i < params.names.size(); i++)
    for (int which = 0; which < 2; which++) {
      const std::string n = (which ? "v." : "m.") + params.names[i];
      const StTensorInfo* t = f.find(n);
      if (!t) fail("{}: no tensor {} (the checkpoint trains other tensors)", p, n);
      if (t->shape != params.grads.spec(i).shape) fail("{}: tensor {} has the wrong shape", p, n);
      if (t->dtype != StDtype::F32) fail("{}: tensor {} is {}, not F32", p, n, st_dtype_name(t->dtype));
    }
  std::vector<float> stage;  // read on the host, then into the backend's memory
  for (const ParamSet::Piece& q : params.own_pieces())
    for (int which = 0; which < 2; which++) {
      stage.resize(size_t(q.count));
      f.read_f32(*f.find((which ? "v." : "m.") + params.names[q.tensor]), q.begin, q.count, stage.data());
      params.be->to_device(which ? opt.v_at(q.flat) : opt.m_at(q.flat), stage.data(), stage.size() * sizeof(float));
    }
  const json s = json::parse(read_text_file((fs::path(ckpt) / "state.json").string()));
  opt.t = s.at("adam_t").get<int64_t>();
}

}  // namespace radlads
