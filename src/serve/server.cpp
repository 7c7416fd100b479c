// radlads serve (server.h): HTTP handlers on cpp-httplib's thread pool, the
// model on the Scheduler's thread.
#include "serve/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <thread>

#include "core/sysinfo.h"
#include "serve/openai_logprobs.h"
#include "serve/scheduler.h"
#include "serve/session_store.h"
#include "text/chat_template.h"

namespace radlads::serve {

using nlohmann::json;

namespace {

// Generated text need not be valid UTF-8 (a model may emit any byte token):
// invalid bytes go out as U+FFFD rather than throwing.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

volatile std::sig_atomic_t g_signal = 0;
void on_serve_signal(int sig) { g_signal = sig; }

// The longest prefix of s that does not end inside a UTF-8 sequence (a
// token may end mid-character; its bytes go out once the character is whole).
size_t utf8_whole(const std::string& s, size_t from) {
  size_t end = s.size();
  size_t i = end;
  int back = 0;
  while (i > from && back < 4) {
    const unsigned char c = static_cast<unsigned char>(s[i - 1]);
    back++;
    if ((c & 0xC0) == 0x80) {  // continuation byte
      i--;
      continue;
    }
    const int need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (need > back) end = i - 1;  // the last character is not complete yet
    break;
  }
  return std::max(end, from);
}

// What of text may stream now: whole UTF-8 characters, less any tail that
// could still grow into a stop string (the scheduler cuts the text at a stop
// string only once it is complete; until then its start must not go out).
size_t streamable(const std::string& text, size_t from, const std::vector<std::string>& stop) {
  size_t end = utf8_whole(text, from), hold = 0;
  for (const std::string& st : stop)
    for (size_t k = std::min(st.size() - 1, end - from); k > hold; k--)
      if (text.compare(end - k, k, st, 0, k) == 0) {
        hold = k;
        break;
      }
  return end - hold;
}

struct Server {
  LanguageModel& lm;
  const Tokenizer& tok;
  ServeOptions o;
  Scheduler sched;
  httplib::Server http;
  std::mutex tok_mu;  // tokenizing on the HTTP threads
  std::atomic<bool> draining{false}, stopped{false};
  std::atomic<uint64_t> requests{0}, errors{0}, next_id{1};
  const size_t weight_bytes;

  Server(LanguageModel& l, const Tokenizer& t, const ServeOptions& opt)
      : lm(l), tok(t), o(opt), sched(l, t, opt.limits),
        weight_bytes(l.frozen() ? l.frozen()->bytes() : size_t(4 * l.model().n_params())) {}

  void reply_error(httplib::Response& res, int status, const std::string& msg, const std::string& param = "") {
    errors++;
    res.status = status;
    res.set_content(error_json(msg, param, status == 503 ? "server_error" : "invalid_request_error"),
                    "application/json");
  }

  // The prompt's tokens: a chat rendered with the model's template (and the
  // assistant turn opened), or the completion prompt with the model's BOS.
  std::vector<int32_t> tokenize(const CompletionRequest& r) {
    std::lock_guard<std::mutex> lock(tok_mu);
    return r.chat ? encode_chat_prompt(tok, r.messages) : encode_text_prompt(tok, r.prompt);
  }

  json usage(const Job& j) const {
    size_t completion = 0;
    for (const Choice& c : j.choices) completion += c.out.size();
    return {{"prompt_tokens", j.prompt.size()},
            {"completion_tokens", completion},
            {"total_tokens", j.prompt.size() + completion},
            {"prompt_tokens_details", {{"cached_tokens", j.cached_tokens}}}};
  }

  // One choice of a response or stream chunk: its text (or delta), finish
  // reason and logprobs object (null when not asked for).
  json choice(const CompletionRequest& r, size_t index, const std::string& text, const char* finish, json logprobs,
              bool delta) const {
    json c = {{"index", index}, {"finish_reason", finish ? json(finish) : json()}, {"logprobs", std::move(logprobs)}};
    if (!r.chat) {
      c["text"] = text;
    } else if (delta) {
      json d = json::object();
      if (!text.empty()) d["content"] = text;
      c["delta"] = d;
    } else {
      c["message"] = {{"role", "assistant"}, {"content", text}};
    }
    return c;
  }

  json envelope(const CompletionRequest& r, const std::string& id, bool chunk) const {
    return {{"id", id},
            {"created", std::time(nullptr)},
            {"model", o.model_name},
            {"object", r.chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion"}};
  }

  // The logprobs of choice c's tokens [from, to) (and, for from = 0 with echo,
  // the prompt's before them); null when the request did not ask.
  json logprobs_of(const CompletionRequest& r, const Job& job, const Choice& c, size_t from, size_t to,
                   size_t& offset) const {
    if (r.logprobs < 0) return json();
    const std::span<const TokenLogprob> part(c.logprobs.data() + from, to - from);
    if (r.chat) return chat_logprobs(tok, part);
    json lp;
    if (r.echo && from == 0) append_prompt_logprobs(lp, tok, job.prompt, job.prompt_lp, offset);
    append_completion_logprobs(lp, tok, part, offset);
    return lp;
  }

  void complete(const httplib::Request& req, httplib::Response& res, bool chat) {
    requests++;
    if (draining) return reply_error(res, 503, "the server is shutting down");
    CompletionRequest r;
    auto job = std::make_shared<Job>();
    try {
      r = parse_completion_request(req.body, chat, o.limits);
      job->prompt = tokenize(r);
      if (job->prompt.empty()) throw RequestError(400, "the prompt is empty", chat ? "messages" : "prompt");
      if (int(job->prompt.size()) + r.max_tokens > o.limits.ctx)
        throw RequestError(400,
                           fmt::format("the prompt ({} tokens) plus max_tokens ({}) exceeds the context ({})",
                                       job->prompt.size(), r.max_tokens, o.limits.ctx),
                           "max_tokens");
      job->sampling = r.sampling;
      job->max_tokens = r.max_tokens;
      job->n = r.n;
      job->logprobs = r.logprobs;
      job->prompt_logprobs = r.echo && r.logprobs >= 0;
      job->stop = r.stop;
      job->session_id = r.session_id;
      sched.submit(job);
    } catch (const RequestError& e) {
      return reply_error(res, e.status, e.what(), e.param);
    } catch (const std::exception& e) {  // the tokenizer refusing the text
      return reply_error(res, 400, e.what());
    }
    const std::string id = fmt::format("{}-{}", chat ? "chatcmpl" : "cmpl", next_id++);
    const std::string echo = r.echo ? r.prompt : "";
    if (!r.stream) {
      std::unique_lock<std::mutex> lock(job->mu);
      job->cv.wait(lock, [&] { return job->done; });
      if (!job->error.empty()) return reply_error(res, 500, job->error);
      json out = envelope(r, id, false);
      out["usage"] = usage(*job);
      if (!r.session_id.empty()) out["session_id"] = r.session_id;
      out["choices"] = json::array();
      for (size_t i = 0; i < job->choices.size(); i++) {
        const Choice& c = job->choices[i];
        size_t offset = 0;
        out["choices"].push_back(choice(r, i, echo + c.text, c.finish_reason.c_str(),
                                        logprobs_of(r, *job, c, 0, c.logprobs.size(), offset), false));
      }
      res.set_content(dump(out), "application/json");
      return;
    }
    // Server-sent events: per choice, a chunk per piece of whole text (with
    // the logprobs of the tokens it completes), its finish reason; then the
    // usage and [DONE]. A failed write means the client left: the job is
    // cancelled and its slot freed at the scheduler's next turn.
    struct Progress {
      bool started = false;
      std::vector<size_t> text, tokens, offset;  // sent so far, per choice
      std::vector<bool> finished;
    };
    auto p = std::make_shared<Progress>();
    res.set_chunked_content_provider(
        "text/event-stream", [this, job, r, id, echo, p](size_t, httplib::DataSink& sink) {
          auto event = [&](const std::string& data) {
            const std::string line = "data: " + data + "\n\n";
            return sink.write(line.data(), line.size());
          };
          auto send = [&](json choices) {  // a chunk of these choices
            json j = envelope(r, id, true);
            j["choices"] = std::move(choices);
            return event(dump(j));
          };
          const size_t n = job->choices.size();
          if (!p->started) {
            p->started = true;
            p->text.assign(n, 0), p->tokens.assign(n, 0), p->offset.assign(n, 0), p->finished.assign(n, false);
            json first = json::array();
            for (size_t i = 0; i < n; i++) {  // chat: the role; completions with echo: the prompt
              if (!r.chat && echo.empty()) continue;
              json c = choice(r, i, echo, nullptr, json(), true);
              if (r.chat) c["delta"] = {{"role", "assistant"}};
              first.push_back(std::move(c));
            }
            if (!first.empty() && !send(std::move(first))) return job->cancelled = true, false;
          }
          json choices = json::array();
          bool done = false;
          std::string error;
          {
            std::unique_lock<std::mutex> lock(job->mu);
            auto progressed = [&] {
              if (job->done) return true;
              for (size_t i = 0; i < n; i++)
                if (job->choices[i].done != p->finished[i] ||
                    streamable(job->choices[i].text, p->text[i], job->stop) > p->text[i])
                  return true;
              return false;
            };
            job->cv.wait_for(lock, std::chrono::milliseconds(200), progressed);
            done = job->done;
            error = job->error;
            for (size_t i = 0; i < n && error.empty(); i++) {
              const Choice& c = job->choices[i];
              const size_t end = c.done ? c.text.size() : streamable(c.text, p->text[i], job->stop);
              std::string piece = end > p->text[i] ? c.text.substr(p->text[i], end - p->text[i]) : "";
              const bool finish = c.done && !p->finished[i];
              if (piece.empty() && !finish) continue;
              const size_t to = c.logprobs.size();
              json lp = logprobs_of(r, *job, c, p->tokens[i], to, p->offset[i]);
              choices.push_back(choice(r, i, piece, finish ? c.finish_reason.c_str() : nullptr, std::move(lp), true));
              p->text[i] = std::max(p->text[i], end), p->tokens[i] = to, p->finished[i] = p->finished[i] || finish;
            }
          }
          if (!error.empty()) {
            event(error_json(error, "", "server_error"));
          } else if (!choices.empty() && !send(std::move(choices))) {
            return job->cancelled = true, false;
          }
          if (!done) return true;
          if (error.empty()) {
            json last = envelope(r, id, true);
            last["choices"] = json::array();
            std::lock_guard<std::mutex> lock(job->mu);
            last["usage"] = usage(*job);
            event(dump(last));
          }
          event("[DONE]");
          sink.done();
          return true;
        },
        [job](bool success) {
          if (!success) job->cancelled = true;
        });
  }

  std::string metrics() const {
    const SchedulerStats s = sched.stats();
    std::string m;
    auto add = [&](const char* name, const char* type, const char* help, double v) {
      m += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, v);
    };
    add("radlads_requests_total", "counter", "HTTP requests to the completion endpoints", double(requests));
    add("radlads_request_errors_total", "counter", "Requests answered with an error", double(errors));
    add("radlads_prompt_tokens_total", "counter", "Prompt tokens fed (kept sessions' prefixes not counted)",
        double(s.prompt_tokens));
    add("radlads_generated_tokens_total", "counter", "Tokens generated", double(s.generated_tokens));
    add("radlads_requests_finished_total", "counter", "Sequences that finished", double(s.finished));
    add("radlads_requests_cancelled_total", "counter", "Sequences dropped because the client left",
        double(s.cancelled));
    add("radlads_batch_steps_total", "counter", "Batched decode steps", double(s.steps));
    add("radlads_active_sequences", "gauge", "Sequences being decoded", s.active);
    add("radlads_waiting_requests", "gauge", "Requests waiting for a slot", s.waiting);
    add("radlads_kept_sessions", "gauge", "Session states kept for resumption", s.sessions);
    add("radlads_state_bytes", "gauge", "Bytes of active and kept decode states", double(s.state_bytes));
    add("radlads_weight_bytes", "gauge", "Bytes of the linear weights as held", double(weight_bytes));
    add("process_resident_memory_bytes", "gauge", "Resident set size", double(rss_bytes()));
    return m;
  }

  int run() {
    const int pool = 2 * o.limits.max_sessions + 4;  // a streaming client holds a thread
    http.new_task_queue = [pool] { return new httplib::ThreadPool(size_t(pool)); };
    http.set_payload_max_length(o.limits.max_body);
    http.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 413) {
        errors++;
        res.set_content(error_json(fmt::format("the body exceeds {} bytes", o.limits.max_body)), "application/json");
      } else if (res.status == 404) {
        res.set_content(error_json("no such endpoint"), "application/json");
      }
    });
    http.Post("/v1/completions", [this](const httplib::Request& q, httplib::Response& s) { complete(q, s, false); });
    http.Post("/v1/chat/completions",
              [this](const httplib::Request& q, httplib::Response& s) { complete(q, s, true); });
    http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& s) {
      json m = {{"object", "list"},
                {"data", json::array({{{"id", o.model_name}, {"object", "model"}, {"created", 0},
                                       {"owned_by", "radlads"}}})}};
      s.set_content(dump(m), "application/json");
    });
    http.Get("/health", [this](const httplib::Request&, httplib::Response& s) {
      if (draining) s.status = 503;
      s.set_content(dump(json{{"status", draining ? "draining" : "ok"}}), "application/json");
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& s) {
      s.set_content(metrics(), "text/plain; version=0.0.4");
    });
    // cpp-httplib listens with a backlog of 5, too few for a burst of
    // clients (the rest are refused): its listening socket is taken at
    // creation and given a deeper queue once bound (listen() again on a
    // listening socket only resizes its queue).
    std::atomic<int> listen_fd{-1};
    http.set_socket_options([&listen_fd](socket_t sock) {
      httplib::default_socket_options(sock);
      listen_fd = int(sock);
    });
    int port = o.port;
    if (port == 0) {
      port = http.bind_to_any_port(o.host);
      if (port < 0) return fmt::print(stderr, "serve: cannot bind {}\n", o.host), 2;
    } else if (!http.bind_to_port(o.host, port)) {
      fmt::print(stderr, "serve: cannot bind {}:{}\n", o.host, port);
      return 2;
    }
    if (listen_fd >= 0) ::listen(listen_fd, 1024);
    std::signal(SIGTERM, on_serve_signal);
    std::signal(SIGINT, on_serve_signal);
    std::signal(SIGPIPE, SIG_IGN);
    // HTTP on its own threads; the model loop on this one (scheduler.h says why).
    std::atomic<bool> ok{true};
    std::thread listener([this, &ok] {
      ok = http.listen_after_bind();
      stopped = true;
      sched.stop();
    });
    std::thread watcher([this] {
      while (g_signal == 0 && !stopped) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (stopped) return;
      draining = true;
      fmt::print(stderr, "serve: signal {}: draining\n", int(g_signal));
      while (!sched.idle()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the last responses leave
      http.stop();
    });
    std::string fingerprint;
    if (!o.session_dir.empty()) {
      fingerprint = model_fingerprint(lm);
      auto kept = load_sessions(o.session_dir, lm, o.limits.ctx, stderr);
      fmt::print(stderr, "serve: {} kept session(s) restored from {}\n", kept.size(), o.session_dir);
      sched.restore(std::move(kept));
    }
    fmt::print(stderr, "listening on http://{}:{}\n", o.host, port);
    sched.run();
    listener.join();
    watcher.join();
    if (!o.session_dir.empty()) {
      try {
        sched.persist(o.session_dir, fingerprint);
        fmt::print(stderr, "serve: {} kept session(s) saved in {}\n", sched.stats().sessions, o.session_dir);
      } catch (const std::exception& e) {
        fmt::print(stderr, "serve: saving the kept sessions failed: {}\n", e.what());
        ok = false;
      }
    }
    fmt::print(stderr, "serve: stopped\n");
    return ok ? 0 : 2;
  }
};

}  // namespace

int serve(LanguageModel& lm, const Tokenizer& tok, const ServeOptions& o) {
  Server s(lm, tok, o);
  return s.run();
}

}  // namespace radlads::serve
