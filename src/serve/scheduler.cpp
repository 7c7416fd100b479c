// Continuous batching on the model thread (scheduler.h).
#include "serve/scheduler.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"

namespace radlads::serve {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Scheduler::Scheduler(LanguageModel& lm, const Tokenizer& tok, ServeLimits limits)
    : lm_(lm),
      tok_(tok),
      limits_(limits),
      recurrent_(lm.model().student.is_student() && lm.model().student.num_attention_layers == 0) {}

void Scheduler::run() { loop(); }

void Scheduler::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

void Scheduler::submit(const std::shared_ptr<Job>& job) {
  job->choices.resize(size_t(std::max(1, job->n)));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int(waiting_.size()) >= limits_.max_sessions)
      throw RequestError(503, "the server is busy: too many requests waiting; retry later");
    waiting_.push_back(job);
  }
  cv_.notify_all();
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SchedulerStats s = stats_;
  s.waiting = int(waiting_.size());
  s.sessions = int(kept_.size());
  return s;
}

bool Scheduler::idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_.empty() && stats_.active == 0;
}

void Scheduler::restore(std::vector<StoredSession> sessions) {
  std::lock_guard<std::mutex> lock(mu_);
  for (StoredSession& x : sessions) {
    lru_.remove(x.id);
    lru_.push_back(x.id);
    kept_[x.id] = Kept{std::move(x.state), std::move(x.history), std::move(x.logits)};
  }
  update_memory();
}

void Scheduler::persist(const std::string& dir, const std::string& fingerprint) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  for (const std::string& id : lru_) {
    const Kept& k = kept_.at(id);
    save_session(dir, fingerprint, id, k.history, k.logits, *k.state);
    ids.push_back(id);
  }
  remove_other_sessions(dir, ids);
}

const char* Scheduler::emit(Active& a, int32_t token, std::span<const float> logits) {
  Job& j = *a.job;
  if (j.max_tokens == 0) return "length";  // the prompt only (echo)
  if (ends_generation(tok_, token)) return "stop";
  TokenLogprob lp;
  if (j.logprobs >= 0) lp = token_logprob(logits, token, j.logprobs);  // outside the lock
  std::lock_guard<std::mutex> lock(j.mu);
  Choice& c = j.choices[size_t(a.choice)];
  c.out.push_back(token);
  if (j.logprobs >= 0) c.logprobs.push_back(std::move(lp));
  c.text = tok_.decode(c.out);
  size_t cut = std::string::npos;
  for (const std::string& s : j.stop) cut = std::min(cut, c.text.find(s));
  if (cut != std::string::npos) c.text.resize(cut);
  j.cv.notify_all();
  if (cut != std::string::npos) return "stop";
  return int(c.out.size()) >= j.max_tokens ? "length" : nullptr;
}

void Scheduler::complete(Active& a, const char* reason, std::span<const float> logits) {
  {
    // A kept state is in the cache (and counted) before its client hears
    // the answer: the next request of the session finds it.
    std::lock_guard<std::mutex> lock(mu_);
    if (a.choice == 0 && !a.job->session_id.empty()) {
      kept_[a.job->session_id] = Kept{std::move(a.state), std::move(a.history), {logits.begin(), logits.end()}};
      lru_.remove(a.job->session_id);
      lru_.push_back(a.job->session_id);
      update_memory();
    }
  }
  bool job_done = false;
  {
    std::lock_guard<std::mutex> lock(a.job->mu);
    Choice& c = a.job->choices[size_t(a.choice)];
    c.done = true;
    c.finish_reason = reason;
    job_done = std::all_of(a.job->choices.begin(), a.job->choices.end(), [](const Choice& x) { return x.done; });
    a.job->done = job_done;
    a.job->cv.notify_all();
  }
  if (job_done) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.finished++;
  }
}

void Scheduler::feed_scored(Active& a, float* last_logits) {
  Job& job = *a.job;
  constexpr int kChunk = 64;  // bounds the (chunk, V) logits
  std::vector<float> scratch;
  std::vector<TokenLogprob> lps;
  feed_scoring(*a.state, lm_.n_vocab(), job.prompt.data(), int(job.prompt.size()), kChunk, scratch,
               [&](int first, int count, const float* logits) {
                 lps.clear();
                 for (int i = 0; i < count; i++)
                   lps.push_back(token_logprob({logits + size_t(i) * lm_.n_vocab(), size_t(lm_.n_vocab())},
                                               job.prompt[size_t(first + i)], std::max(0, job.logprobs)));
                 std::lock_guard<std::mutex> lock(job.mu);
                 for (auto& x : lps) job.prompt_lp.push_back(std::move(x));
               },
               last_logits);
  a.history.insert(a.history.end(), job.prompt.begin(), job.prompt.end());
}

// Under mu_: the session cache bounded (oldest out), and the state bytes.
void Scheduler::update_memory() {
  while (int(kept_.size()) > limits_.max_sessions && !lru_.empty()) {
    kept_.erase(lru_.front());
    lru_.pop_front();
  }
  size_t bytes = 0;
  for (const Active& x : active_) bytes += x.state ? x.state->state_bytes() : 0;
  for (const auto& [id, k] : kept_) bytes += k.state->state_bytes();
  stats_.state_bytes = bytes;
}

void Scheduler::admit(std::shared_ptr<Job> job) {
  const auto t0 = std::chrono::steady_clock::now();
  const int V = lm_.n_vocab();
  Active a{job, 0, nullptr, {}, Sampler(job->sampling), 0};
  std::vector<float> first(static_cast<size_t>(V));
  size_t fed = 0;
  Kept k;
  bool resumed = false;
  if (!job->session_id.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kept_.find(job->session_id);
    if (it != kept_.end()) {
      k = std::move(it->second);
      kept_.erase(it);
      lru_.remove(job->session_id);
      resumed = k.history.size() <= job->prompt.size() &&
                std::equal(k.history.begin(), k.history.end(), job->prompt.begin());
    }
  }
  if (job->prompt_logprobs) resumed = false;  // every prompt position is scored, from a fresh state
  if (resumed) {  // the kept state has seen a prefix of this prompt: feed the rest
    a.state = std::move(k.state);
    a.history = std::move(k.history);
    fed = a.history.size();
    first = std::move(k.logits);
  } else {
    // A teacher's KV cache is sized for the sequence (or the whole context
    // when its state may be kept); a student's state is one size.
    const int n_ctx = recurrent_ || !job->session_id.empty() ? limits_.ctx
                                                             : int(job->prompt.size()) + job->max_tokens + 1;
    a.state = lm_.new_state(n_ctx);
  }
  {
    std::lock_guard<std::mutex> lock(job->mu);
    job->cached_tokens = int(fed);
  }
  constexpr size_t kChunk = 512;  // bounds the prefill's scratch
  if (job->prompt_logprobs) feed_scored(a, first.data()), fed = job->prompt.size();
  while (fed < job->prompt.size()) {
    const size_t n = std::min(kChunk, job->prompt.size() - fed);
    const bool last = fed + n == job->prompt.size();
    a.state->feed(job->prompt.data() + fed, int(n), last ? first.data() : nullptr);
    a.history.insert(a.history.end(), job->prompt.begin() + int64_t(fed), job->prompt.begin() + int64_t(fed + n));
    fed += n;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.prompt_tokens += job->prompt.size() - size_t(job->cached_tokens);
  }
  // n completions: the prefilled state forked, each choice with its own sampler
  // (seed + i when a seed is given, so that the choices differ and repeat).
  const int n = int(job->choices.size());
  std::vector<Active> forks;
  for (int i = 0; i < n; i++) {
    SamplingParams sp = job->sampling;
    if (sp.seed) sp.seed += uint64_t(i);
    Active f{job, i, i + 1 < n ? a.state->clone() : std::move(a.state), a.history, Sampler(sp), 0};
    forks.push_back(std::move(f));
  }
  {
    std::lock_guard<std::mutex> lock(job->mu);
    job->first_token_s = seconds_since(t0);
  }
  for (Active& f : forks) {
    f.next = job->max_tokens > 0 ? f.sampler.sample(first) : 0;
    if (const char* reason = emit(f, f.next, first)) complete(f, reason, first);  // finished at once
    else active_.push_back(std::move(f));
  }
}

void Scheduler::loop() {
  std::vector<DecodeState*> states;
  std::vector<int32_t> tokens;
  for (;;) {
    // Admit what waits, up to max_sessions sequences at once.
    std::vector<std::shared_ptr<Job>> admitted;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !waiting_.empty() || !active_.empty(); });
      if (stop_) break;
      // (A job of n completions takes n sequences; the parser keeps n ≤ max_sessions.)
      size_t seqs = active_.size();
      while (!waiting_.empty() && int(seqs + waiting_.front()->choices.size()) <= limits_.max_sessions) {
        seqs += waiting_.front()->choices.size();
        admitted.push_back(waiting_.front());
        waiting_.pop_front();
      }
    }
    for (auto& job : admitted) {
      if (job->cancelled) continue;
      try {
        admit(job);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(job->mu);
        job->error = e.what();
        job->done = true;
        job->cv.notify_all();
      }
    }
    // Drop the sequences whose clients left.
    uint64_t dropped = 0;
    for (auto it = active_.begin(); it != active_.end();) {
      if (it->job->cancelled) {
        it = active_.erase(it);
        dropped++;
      } else {
        ++it;
      }
    }
    const int B = int(active_.size());
    if (B > 0) {
      states.clear();
      tokens.clear();
      for (Active& a : active_) {
        states.push_back(a.state.get());
        tokens.push_back(a.next);
      }
      logits_.resize(size_t(B) * size_t(lm_.n_vocab()));
      lm_.step(states.data(), tokens.data(), B, logits_.data());
      std::vector<Active> still;
      still.reserve(active_.size());
      uint64_t generated = 0;
      for (int b = 0; b < B; b++) {
        Active& a = active_[size_t(b)];
        a.history.push_back(a.next);
        const std::span<const float> row(logits_.data() + int64_t(b) * lm_.n_vocab(), size_t(lm_.n_vocab()));
        a.next = a.sampler.sample(row);
        generated++;
        if (const char* reason = emit(a, a.next, row)) complete(a, reason, row);
        else still.push_back(std::move(a));
      }
      active_ = std::move(still);
      std::lock_guard<std::mutex> lock(mu_);
      stats_.generated_tokens += generated;
      stats_.steps++;
    }
    std::lock_guard<std::mutex> lock(mu_);
    stats_.cancelled += dropped;
    stats_.active = int(active_.size());
    update_memory();
  }
}

}  // namespace radlads::serve
