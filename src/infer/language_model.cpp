// LanguageModel implementations: the teacher with KV caches.
#include "infer/language_model.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/device_array.h"
#include "core/error.h"
#include "models/device_model.h"
#include "models/stored_weights.h"
#include "models/student.h"
#include "models/teacher.h"

namespace radlads {

namespace {

// The linear weights in another format: packed on first use by the frozen
// backend, so the owner runs one token through the model to pack them all,
// then returns their fp32 copies to the system (except the embedding table,
// which embedding_forward reads; a tied head shares it).
class Packing {
 public:
  Packing(const Backend& be, const InferOptions& o)
      : frozen_(o.weights ? be.frozen_weights(*o.weights, /*pack_on_first_use=*/true) : nullptr) {}
  const Backend& backend(const Backend& be) const { return frozen_ ? frozen_->backend() : be; }
  const Backend::FrozenWeights* frozen() const { return frozen_.get(); }
  template <class Score>
  void pack(const Model& m, int n_vocab, Score&& score) {
    if (!frozen_) return;
    const int32_t tok = 0;
    std::vector<float> logits(static_cast<size_t>(n_vocab));
    score(&tok, logits.data());
    const float* keep[] = {m.w("model.embed_tokens.weight").ptr()};
    frozen_->release_sources(keep, 1);
  }

 private:
  std::unique_ptr<Backend::FrozenWeights> frozen_;
};

// Callers hand host token ids and want host logits. On a device backend
// they go through buffers in its memory; on the CPU they are used as given.
class HostIO {
 public:
  explicit HostIO(const Backend& be) : be_(be), device_(be.device() != Device::Cpu), tok_(be), out_(be) {}
  const int32_t* tokens(const int32_t* host, int64_t n) { return device_ ? tok_.upload(host, size_t(n)) : host; }
  float* logits(float* host, int64_t n) { return device_ && host ? out_.ensure(size_t(n)) : host; }
  void done(float* host, int64_t n) {
    if (device_ && host) be_.to_host(host, out_.data(), size_t(n) * sizeof(float));
  }

 private:
  const Backend& be_;
  bool device_;
  DeviceArray<int32_t> tok_;
  DeviceArray<float> out_;
};

// The model a backend computes from: m itself on the CPU, its upload on a device.
Model device_copy(const Backend& be, const Model& m) {
  return be.device() == Device::Cpu ? Model() : model_on_device(m, be);
}

class TeacherState final : public DecodeState {
 public:
  KVCache& cache() { return cache_; }
  TeacherState(Teacher& t, HostIO& io, const Backend& be, int n_ctx)
      : t_(t), io_(io), cache_(t.cfg(), n_ctx, t.cfg().n_layer, be) {
    t.reserve_positions(n_ctx);
  }
  void feed(const int32_t* tokens, int T, float* last_logits) override {
    const int64_t V = t_.cfg().n_vocab;
    t_.forward(io_.tokens(tokens, T), 1, T, &cache_, io_.logits(last_logits, V),
               last_logits ? Teacher::Logits::Last : Teacher::Logits::None);
    io_.done(last_logits, V);
  }
  void feed_all(const int32_t* tokens, int T, float* logits) override {
    const int64_t n = int64_t(T) * t_.cfg().n_vocab;
    t_.forward(io_.tokens(tokens, T), 1, T, &cache_, io_.logits(logits, n), Teacher::Logits::All);
    io_.done(logits, n);
  }
  std::unique_ptr<DecodeState> clone() const override { return std::make_unique<TeacherState>(*this); }
  void save(std::string& out) const override { cache_.save(out); }
  void load(ByteReader& r) override { cache_.load(r); }
  int n_past() const override { return cache_.n_past; }
  size_t state_bytes() const override { return cache_.bytes(); }

 private:
  Teacher& t_;
  HostIO& io_;
  KVCache cache_;
};

class TeacherLM final : public LanguageModel {
 public:
  TeacherLM(const Backend& be, Model m, const InferOptions& o)
      : be_(be), m_(std::move(m)), dm_(device_copy(be, m_)), packing_(be, o),
        t_(packing_.backend(be), be.device() == Device::Cpu ? m_ : dm_, TeacherGemm::F32, /*quantize_inputs=*/true),
        io_(be) {
    packing_.pack(m_, n_vocab(), [&](const int32_t* tok, float* logits) { score(tok, 1, 1, logits); });
  }
  const Model& model() const override { return m_; }
  const Backend::FrozenWeights* frozen() const override { return packing_.frozen(); }
  void score(const int32_t* tokens, int B, int T, float* logits) override {
    std::vector<KVCache> caches;
    caches.reserve(size_t(B));
    for (int b = 0; b < B; b++) caches.emplace_back(t_.cfg(), T, t_.cfg().n_layer, be_);
    const int64_t n = int64_t(B) * T * n_vocab();
    t_.forward(io_.tokens(tokens, int64_t(B) * T), B, T, caches.data(), io_.logits(logits, n), Teacher::Logits::All);
    io_.done(logits, n);
  }
  std::unique_ptr<DecodeState> new_state(int n_ctx) override {
    return std::make_unique<TeacherState>(t_, io_, be_, n_ctx);
  }
  void step(DecodeState* const* states, const int32_t* tokens, int B, float* logits) override {
    // The caches move into one array for the forward and back (vector swaps).
    while (int(batch_.size()) < B) batch_.emplace_back(t_.cfg(), 0, t_.cfg().n_layer, be_);
    for (int b = 0; b < B; b++) std::swap(batch_[size_t(b)], static_cast<TeacherState*>(states[b])->cache());
    const int64_t n = int64_t(B) * n_vocab();
    t_.forward(io_.tokens(tokens, B), B, 1, batch_.data(), io_.logits(logits, n), Teacher::Logits::Last);
    io_.done(logits, n);
    for (int b = 0; b < B; b++) std::swap(batch_[size_t(b)], static_cast<TeacherState*>(states[b])->cache());
  }

 private:
  const Backend& be_;
  Model m_, dm_;  // the host model (what model() shows), and its upload on a device backend
  Packing packing_;
  Teacher t_;
  HostIO io_;
  std::vector<KVCache> batch_;
};

class StudentDecodeState final : public DecodeState {
 public:
  StudentState& state() { return st_; }
  StudentDecodeState(Student& s, HostIO& io, int n_ctx) : s_(s), io_(io), st_(s.new_state(n_ctx)) {
    s.reserve_positions(n_ctx);
  }
  StudentDecodeState(Student& s, HostIO& io, const StudentState& st) : s_(s), io_(io) {  // a copy (hybrid: its KV caches too)
    st_.n_past = st.n_past, st_.wkv = st.wkv, st_.shift = st.shift;
    if (st.kv) st_.kv = std::make_unique<KVCache>(*st.kv);
  }
  void feed(const int32_t* tokens, int T, float* last_logits) override {
    const int64_t V = s_.cfg().n_vocab;
    s_.forward(io_.tokens(tokens, T), 1, T, &st_, io_.logits(last_logits, V),
               last_logits ? LogitsMode::Last : LogitsMode::None);
    io_.done(last_logits, V);
  }
  void feed_all(const int32_t* tokens, int T, float* logits) override {
    const int64_t n = int64_t(T) * s_.cfg().n_vocab;
    s_.forward(io_.tokens(tokens, T), 1, T, &st_, io_.logits(logits, n), LogitsMode::All);
    io_.done(logits, n);
  }
  std::unique_ptr<DecodeState> clone() const override { return std::make_unique<StudentDecodeState>(s_, io_, st_); }
  void save(std::string& out) const override {
    const int64_t head[3] = {st_.n_past, int64_t(st_.wkv.size()), int64_t(st_.shift.size())};
    out.append(reinterpret_cast<const char*>(head), sizeof head);
    out.append(reinterpret_cast<const char*>(st_.wkv.data()), st_.wkv.size() * sizeof(float));
    out.append(reinterpret_cast<const char*>(st_.shift.data()), st_.shift.size() * sizeof(float));
    if (st_.kv) st_.kv->save(out);
  }
  void load(ByteReader& r) override {
    const int64_t past = r.read<int64_t>("positions"), wkv = r.read<int64_t>("state floats"),
                  shift = r.read<int64_t>("shift floats");
    if (wkv != int64_t(st_.wkv.size()) || shift != int64_t(st_.shift.size()) || past < 0)
      fail("{}: a state of {} + {} floats, this model's is {} + {}", r.path(), wkv, shift, st_.wkv.size(),
           st_.shift.size());
    for (std::vector<float>* v : {&st_.wkv, &st_.shift}) {
      const std::string_view b = r.read_bytes(v->size() * sizeof(float), "state");
      if (!b.empty()) std::memcpy(v->data(), b.data(), b.size());  // (RWKV7 has no shift: data() may be null)
    }
    if (st_.kv) st_.kv->load(r);
    st_.n_past = int(past);
  }
  int n_past() const override { return st_.n_past; }
  size_t state_bytes() const override { return st_.bytes(); }

 private:
  Student& s_;
  HostIO& io_;
  StudentState st_;
};

class StudentLM final : public LanguageModel {
 public:
  StudentLM(const Backend& be, Model m, const InferOptions& o)
      : m_(std::move(m)), dm_(device_copy(be, m_)), packing_(be, o),
        s_(packing_.backend(be), be.device() == Device::Cpu ? m_ : dm_), io_(be) {
    packing_.pack(m_, n_vocab(), [&](const int32_t* tok, float* logits) { score(tok, 1, 1, logits); });
  }
  const Model& model() const override { return m_; }
  const Backend::FrozenWeights* frozen() const override { return packing_.frozen(); }
  void score(const int32_t* tokens, int B, int T, float* logits) override {
    const int64_t n = int64_t(B) * T * n_vocab();
    s_.forward(io_.tokens(tokens, int64_t(B) * T), B, T, nullptr, io_.logits(logits, n), LogitsMode::All);
    io_.done(logits, n);
  }
  std::unique_ptr<DecodeState> new_state(int n_ctx) override {
    return std::make_unique<StudentDecodeState>(s_, io_, n_ctx);
  }
  void step(DecodeState* const* states, const int32_t* tokens, int B, float* logits) override {
    batch_.resize(std::max(batch_.size(), size_t(B)));
    for (int b = 0; b < B; b++) std::swap(batch_[size_t(b)], static_cast<StudentDecodeState*>(states[b])->state());
    const int64_t n = int64_t(B) * n_vocab();
    s_.forward(io_.tokens(tokens, B), B, 1, batch_.data(), io_.logits(logits, n), LogitsMode::Last);
    io_.done(logits, n);
    for (int b = 0; b < B; b++) std::swap(batch_[size_t(b)], static_cast<StudentDecodeState*>(states[b])->state());
  }

 private:
  Model m_, dm_;  // the host model (what model() shows), and its upload on a device backend
  Packing packing_;
  Student s_;
  HostIO io_;
  std::vector<StudentState> batch_;
};

}  // namespace

void LanguageModel::step(DecodeState* const* states, const int32_t* tokens, int B, float* logits) {
  for (int b = 0; b < B; b++) states[b]->feed(tokens + b, 1, logits + int64_t(b) * n_vocab());
}

void feed_scoring(DecodeState& st, int V, const int32_t* tokens, int n, int rows, std::vector<float>& scratch,
                  const std::function<void(int, int, const float*)>& score, float* last_logits) {
  // Row 0 of scratch carries the previous block's last logits; feed_all writes
  // the block's rows after it, so row i is the distribution over token p0 + i.
  scratch.resize(size_t(rows + 1) * size_t(V));
  for (int p0 = 0; p0 < n; p0 += rows) {
    const int k = std::min(rows, n - p0);
    st.feed_all(tokens + p0, k, scratch.data() + V);
    if (p0 > 0) score(p0, k, scratch.data());
    else if (k > 1) score(1, k - 1, scratch.data() + V);
    std::copy_n(scratch.begin() + int64_t(k) * V, V, scratch.begin());
  }
  if (last_logits && n > 0) std::copy_n(scratch.begin(), V, last_logits);
}

std::unique_ptr<LanguageModel> make_language_model(const Backend& be, Model m, const InferOptions& o) {
  if (m.student.is_student()) return std::make_unique<StudentLM>(be, std::move(m), o);
  return std::make_unique<TeacherLM>(be, std::move(m), o);
}

std::unique_ptr<LanguageModel> open_language_model(const Backend& be, const std::string& path,
                                                   const InferOptions& o) {
  Model m = open_model(path);
  if (o.stored) {
    if (m.student.is_student())
      fail("{}: --dtype stored keeps a teacher's file blocks; a student holds its exported format with --dtype "
           "f16|bf16|q8_0|q4_0 (lossless from a file of that type)",
           path);
    hold_teacher_stored(m);  // the Teacher then multiplies the blocks (Model::stored)
  }
  return make_language_model(be, std::move(m), o);
}

}  // namespace radlads
