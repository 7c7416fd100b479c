// The server's model loop: continuous batching, on the thread that loaded
// the model (its OpenMP team is the only one: a second team on another
// thread made libgomp throttle its spinning and decode 3x slower on 2 cores). Requests arrive as
// Jobs from the HTTP threads; each loop turn admits waiting jobs (prefills
// their prompts, or resumes a kept session's state and feeds only what is
// new), then steps every active sequence together — one token each, one
// matmul per weight for the whole batch (LanguageModel::step) — samples,
// and hands each job its text. A job whose client went away is dropped at
// the next turn; a finished job with a session id leaves its state (a few
// MB for a student, its KV cache for a teacher) in a bounded LRU cache.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "infer/language_model.h"
#include "infer/sampling.h"
#include "serve/logprobs.h"
#include "serve/openai_request.h"
#include "serve/session_store.h"
#include "text/tokenizer.h"

namespace radlads::serve {

// One of a job's n completions.
struct Choice {
  std::vector<int32_t> out;      // generated ids
  std::string text;              // their text, cut at a stop string when one is found
  std::vector<TokenLogprob> logprobs;  // one per generated id, when the job asks for them
  bool done = false;
  std::string finish_reason;     // "stop" or "length"
};

struct Job {
  // Set by the submitter.
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  int max_tokens = 16;           // 0: none generated (echo with prompt logprobs)
  int n = 1;                     // completions of the prompt: its state is forked after the prefill
  int logprobs = -1;             // alternatives per token in the logprobs (-1: no logprobs)
  bool prompt_logprobs = false;  // also the prompt's tokens (echo): the logits at every prompt position
  std::vector<std::string> stop;
  std::string session_id;        // with n > 1, the first choice's state is kept
  // Written by the scheduler under mu, cv notified on every change.
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Choice> choices;   // n, sized by submit
  std::vector<TokenLogprob> prompt_lp;  // prompt_logprobs: from the second prompt token on
  bool done = false;             // every choice done (or error)
  std::string error;             // set when the job failed
  int cached_tokens = 0;         // prompt tokens a kept session already held
  double first_token_s = 0;      // seconds from admission to the first token
  // Set by the HTTP side when its client disconnected.
  std::atomic<bool> cancelled{false};
};

struct SchedulerStats {
  int active = 0, waiting = 0, sessions = 0;
  size_t state_bytes = 0;  // active and kept states
  uint64_t prompt_tokens = 0, generated_tokens = 0, finished = 0, cancelled = 0, steps = 0;
};

class Scheduler {
 public:
  Scheduler(LanguageModel& lm, const Tokenizer& tok, ServeLimits limits);
  // Runs the loop on the calling thread until stop().
  void run();
  void stop();
  // Queues a job; throws RequestError(503) when max_sessions jobs already wait.
  void submit(const std::shared_ptr<Job>& job);
  SchedulerStats stats() const;
  bool idle() const;  // nothing active or waiting
  // The kept sessions from disk, before run(); and all kept ones to disk after
  // it (the rest of dir's session files removed). Both on the model's thread.
  void restore(std::vector<StoredSession> sessions);
  void persist(const std::string& dir, const std::string& fingerprint);

 private:
  struct Active {
    std::shared_ptr<Job> job;
    int choice = 0;  // its index in job->choices
    std::unique_ptr<DecodeState> state;
    std::vector<int32_t> history;  // every token the state has seen
    Sampler sampler;
    int32_t next = 0;  // sampled, not yet fed
  };
  struct Kept {
    std::unique_ptr<DecodeState> state;
    std::vector<int32_t> history;
    std::vector<float> logits;  // after the last token of history
  };
  void loop();
  void admit(std::shared_ptr<Job> job);
  // Hands the job its new token (sampled from logits); the finish reason when that ends it, else null.
  const char* emit(Active& a, int32_t token, std::span<const float> logits);
  // The whole prompt fed into a's fresh state, every position's log-probability into the job.
  void feed_scored(Active& a, float* last_logits);
  // Ends a choice (keeping its state when the job names a session and this is
  // its first choice), then tells the client; the job is done with its last choice.
  void complete(Active& a, const char* reason, std::span<const float> logits);
  void update_memory();

  LanguageModel& lm_;
  const Tokenizer& tok_;
  const ServeLimits limits_;
  const bool recurrent_;  // a student: constant-size state (no KV cache to size)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> waiting_;
  std::vector<Active> active_;  // the model thread's only
  std::map<std::string, Kept> kept_;
  std::list<std::string> lru_;  // kept session ids, oldest first
  SchedulerStats stats_;
  std::vector<float> logits_;
  bool stop_ = false;
};

}  // namespace radlads::serve
