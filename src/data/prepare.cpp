// prepare_dataset: read documents in batches, tokenize each batch across
// threads, write them in document order (so the output does not depend on
// the thread count), then publish the folder with one rename.
#include "data/prepare.h"

#include <unistd.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/text_sources.h"
#include "text/tokenizer.h"
#include "io/json_file.h"

namespace radlads {

namespace fs = std::filesystem;

namespace {

// A batch ends at batch_bytes of text or this many documents, whichever
// comes first; many tiny JSONL lines would otherwise make huge batches of
// per-document vectors.
constexpr size_t kMaxBatchDocs = 8192;

void tokenize_batch(const Tokenizer& tok, const std::vector<SourceDocument>& docs, int32_t eos,
                    std::vector<std::vector<int32_t>>& ids) {
  ids.assign(docs.size(), {});
  std::exception_ptr error;
  // Dynamic schedule: document lengths vary by orders of magnitude.
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < int64_t(docs.size()); ++i) {
    try {
      ids[size_t(i)] = tok.encode(docs[size_t(i)].text, /*parse_special=*/false);
      ids[size_t(i)].push_back(eos);
    } catch (...) {
#pragma omp critical(radlads_prepare_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

nlohmann::json split_json(const SplitCounts& c, const char* prefix) {
  return {{"prefix", prefix}, {"docs", c.docs}, {"tokens", c.tokens}};
}

}  // namespace

PrepareResult prepare_dataset(const Tokenizer& tokenizer, const std::vector<std::string>& inputs,
                              const std::string& out_dir, const PrepareOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string& tok_name = options.tokenizer_path.empty() ? std::string("tokenizer") : options.tokenizer_path;
  if (options.heldout_every < 0 || options.heldout_every == 1)
    fail("--heldout-every {}: must be 0 (no held-out split) or at least 2", options.heldout_every);
  const int32_t eos = tokenizer.eos();
  if (eos < 0 || eos >= tokenizer.n_vocab())
    fail("{}: the tokenizer has no EOS token, which every document must end with", tok_name);

  // "out/" and "out" name the same folder; its temporary sibling must not be "out/.tmp".
  fs::path out = fs::path(out_dir).lexically_normal();
  if (!out.has_filename()) out = out.parent_path();
  std::error_code ec;
  if (fs::exists(out, ec) || fs::is_symlink(out, ec))
    fail("{}: already exists; give a new folder to --out", out_dir);
  // Expanded before anything is created: a missing input leaves no trace.
  const std::vector<std::string> files = expand_inputs(inputs);

  const fs::path tmp = out.string() + ".tmp." + std::to_string(::getpid());
  fs::remove_all(tmp, ec);  // a leftover of a crashed run with our pid
  if (out.has_parent_path()) fs::create_directories(out.parent_path(), ec);
  if (!fs::create_directory(tmp, ec)) fail("{}: cannot create folder: {}", tmp.string(), ec.message());

  PrepareResult r;
  r.dtype = dtype_for_vocab(tokenizer.n_vocab());
  r.files = int64_t(files.size());
  const bool paragraphs = files.size() == 1 && !is_jsonl_file(files[0]) && options.heldout_every > 0;
  if (paragraphs) r.documents = "paragraphs";
  try {
    BinidxWriter train((tmp / "train").string(), r.dtype), heldout((tmp / "heldout").string(), r.dtype);
    DocumentReader reader(files, paragraphs);
    std::vector<SourceDocument> batch;
    std::vector<std::vector<int32_t>> ids;
    int64_t k = 0;  // global document number, the held-out rule's input
    // Paragraph mode keeps document 0 back until a second one arrives: a
    // text without a blank line is one paragraph, and then its tail becomes
    // the held-out split instead.
    std::vector<int32_t> first;
    auto add = [&](std::vector<int32_t>& doc_ids, bool held) {
      (held ? heldout : train).add_document(doc_ids);
      SplitCounts& c = held ? r.heldout : r.train;
      c.docs++;
      c.tokens += int64_t(doc_ids.size());
    };
    bool more = true;
    while (more) {
      batch.clear();
      size_t bytes = 0;
      while (bytes < size_t(options.batch_bytes) && batch.size() < kMaxBatchDocs) {
        SourceDocument d;
        if (!(more = reader.next(d))) break;
        bytes += d.text.size();
        batch.push_back(std::move(d));
      }
      tokenize_batch(tokenizer, batch, eos, ids);
      for (auto& doc_ids : ids) {
        const bool held = options.heldout_every > 0 && k % options.heldout_every == 0;
        if (paragraphs && k == 0) {
          first = std::move(doc_ids);
        } else {
          if (paragraphs && k == 1) add(first, true);
          add(doc_ids, held);
        }
        ++k;
      }
    }
    r.text_bytes = reader.bytes_read();
    if (paragraphs && k == 1) {
      // One paragraph: its last 1/heldout_every of tokens (at least one) are
      // held out, the rest (ended with EOS) is the training document.
      const int64_t n = int64_t(first.size()), h = std::max<int64_t>(1, n / options.heldout_every);
      if (n - h >= 2) {
        std::vector<int32_t> head(first.begin(), first.end() - h), tail(first.end() - h, first.end());
        head.push_back(eos);
        add(head, false);
        add(tail, true);
        r.documents = "tail";
        k = 2;
      }
    }
    if (options.heldout_every > 0 && k < 2)
      fail("{}: {} document(s) found{}, but a held-out split needs at least 2 (or --heldout-every 0)",
           inputs.front(), k, paragraphs ? " (paragraphs between blank lines)" : "");
    train.finish();
    heldout.finish();

    nlohmann::json meta = {
        {"format", "radlads-data-1"},
        {"tokenizer", options.tokenizer_path},
        {"n_vocab", tokenizer.n_vocab()},
        {"eos_id", eos},
        {"dtype", dtype_name(r.dtype)},
        {"special_tokens_parsed", false},
        {"heldout_every", options.heldout_every},
        {"documents", r.documents == "tail"
                          ? "the single plain-text input has no blank line: one document, its last 1/heldout_every "
                            "of tokens held out"
                          : paragraphs ? "paragraphs of the single plain-text input, cut at blank lines"
                                       : "one per plain file, one per JSONL line"},
        {"heldout_rule", "document k (0-based, in input order) is held out when k % heldout_every == 0"},
        {"splits", {{"train", split_json(r.train, "train")}, {"heldout", split_json(r.heldout, "heldout")}}},
        {"inputs", inputs},
        {"n_files", r.files},
        {"text_bytes", r.text_bytes},
    };
    write_json_atomic((tmp / "meta.json").string(), meta);

    // rename(2) replaces an empty directory, so check once more right before.
    if (fs::exists(out, ec)) fail("{}: already exists; give a new folder to --out", out_dir);
    fs::rename(tmp, out, ec);
    if (ec) fail("{}: cannot move the finished folder into place: {}", out_dir, ec.message());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace radlads
