// Kept sessions on disk (session_store.h).
#include "serve/session_store.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <filesystem>
#include <set>

#include "core/byte_reader.h"
#include "core/error.h"
#include "core/file_io.h"

namespace radlads::serve {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr char kMagic[] = "RADLADS-SESSION 1\n";

std::string file_name(const std::string& id) {  // FNV-1a of the id: any bytes make a safe name
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}.session", h);
}

}  // namespace

std::string model_fingerprint(const LanguageModel& lm) {
  const Model& m = lm.model();
  const Tensor& emb = m.w("model.embed_tokens.weight");
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(emb.data.data()), uInt(emb.data.size() * sizeof(float)));
  return fmt::format("{} L{} C{} H{}/{} V{} params {} emb-crc {:08x}", m.student.arch_name(), m.cfg.n_layer,
                     m.cfg.n_embd, m.cfg.n_head, m.cfg.n_head_kv, m.cfg.n_vocab, m.n_params(), crc);
}

void save_session(const std::string& dir, const std::string& fingerprint, const std::string& id,
                  const std::vector<int32_t>& history, const std::vector<float>& logits, const DecodeState& state) {
  std::string body = kMagic;
  body += json{{"id", id}, {"model", fingerprint}, {"history", history.size()}, {"vocab", logits.size()}}.dump(
              -1, ' ', false, json::error_handler_t::replace) +
          "\n";
  body.append(reinterpret_cast<const char*>(history.data()), history.size() * sizeof(int32_t));
  body.append(reinterpret_cast<const char*>(logits.data()), logits.size() * sizeof(float));
  state.save(body);
  write_file_atomic((fs::path(dir) / file_name(id)).string(), [&](std::FILE* f) {
    if (std::fwrite(body.data(), 1, body.size(), f) != body.size()) fail("{}: write failed", dir);
  });
}

void remove_other_sessions(const std::string& dir, const std::vector<std::string>& keep) {
  std::set<std::string> names;
  for (const std::string& id : keep) names.insert(file_name(id));
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".session" && !names.count(e.path().filename().string())) fs::remove(e.path(), ec);
}

std::vector<StoredSession> load_sessions(const std::string& dir, LanguageModel& lm, int n_ctx, std::FILE* log) {
  std::vector<StoredSession> out;
  const std::string fp = model_fingerprint(lm);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".session") continue;
    const std::string path = e.path().string();
    try {
      const std::string bytes = read_text_file(path);
      ByteReader r({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, path);
      if (r.read_bytes(sizeof kMagic - 1, "magic") != std::string_view(kMagic, sizeof kMagic - 1))
        fail("{}: not a radlads session file", path);
      const size_t eol = bytes.find('\n', r.pos());
      if (eol == std::string::npos) fail("{}: no header line", path);
      json h;
      try {
        h = json::parse(bytes.substr(r.pos(), eol - r.pos()));
      } catch (const json::exception& x) {
        fail("{}: header: {}", path, x.what());
      }
      r.seek(eol + 1);
      if (!h.is_object() || !h.contains("model") || h["model"] != fp) {
        fmt::print(log, "serve: {}: a session of another model, skipped\n", path);
        continue;
      }
      StoredSession s;
      s.id = h.at("id").get<std::string>();
      const uint64_t n = h.at("history").get<uint64_t>(), V = h.at("vocab").get<uint64_t>();
      if (V != uint64_t(lm.n_vocab())) fail("{}: logits of {} tokens, the vocabulary has {}", path, V, lm.n_vocab());
      if (n > uint64_t(n_ctx)) fail("{}: {} tokens of history exceed the context {}", path, n, n_ctx);
      const std::string_view hist = r.read_bytes(n * sizeof(int32_t), "history");
      s.history.resize(size_t(n));
      if (n > 0) std::memcpy(s.history.data(), hist.data(), hist.size());  // (an empty vector's data() may be null)
      const std::string_view lg = r.read_bytes(V * sizeof(float), "logits");
      s.logits.resize(size_t(V));
      std::memcpy(s.logits.data(), lg.data(), lg.size());
      for (int32_t t : s.history)
        if (t < 0 || t >= lm.n_vocab()) fail("{}: token {} is outside the vocabulary", path, t);
      s.state = lm.new_state(n_ctx);
      s.state->load(r);
      if (r.pos() != r.size()) fail("{}: {} bytes after the state", path, r.size() - r.pos());
      if (s.state->n_past() != int(n)) fail("{}: the state has seen {} tokens, the history {}", path, s.state->n_past(), n);
      out.push_back(std::move(s));
    } catch (const std::exception& x) {
      fmt::print(log, "serve: {}; skipped\n", x.what());
    }
  }
  return out;
}

}  // namespace radlads::serve
