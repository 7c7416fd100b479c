// Scoring arithmetic against numbers worked out by hand: a fake LanguageModel
// whose next-token distribution is known exactly (p = 1/2 for prev + 1, the
// rest shared equally), the harness's tokenization of requests on a tiny BPE
// vocabulary, acc / acc_norm (characters, not bytes) / LAMBADA acc and
// perplexity with their standard errors, the relative score.
#include <gtest/gtest.h>

#include <cmath>

#include "../text/tiny_vocab.h"
#include "core/error.h"
#include "eval/eval_report.h"
#include "eval/loglikelihood.h"
#include "eval/run_task.h"
#include "eval/task_metrics.h"

namespace radlads {
namespace {

using Ids = std::vector<int32_t>;

// Next-token distribution after token p: 1/2 on (p + 1) % V, 1/(2(V-1)) on each
// other token. Causal by construction (position t sees only token t).
class FakeLM final : public LanguageModel {
 public:
  explicit FakeLM(int V) {
    m_.cfg.n_vocab = V;
    m_.cfg.n_ctx_train = 64;
  }
  const Model& model() const override { return m_; }
  void score(const int32_t* tokens, int B, int T, float* logits) override {
    calls.push_back({B, T});
    const int V = m_.cfg.n_vocab;
    for (int64_t i = 0; i < int64_t(B) * T; i++)
      for (int v = 0; v < V; v++)
        logits[i * V + v] = v == (tokens[i] + 1) % V ? std::log(0.5f) : std::log(0.5f / float(V - 1));
  }
  std::unique_ptr<DecodeState> new_state(int) override { return nullptr; }
  double lp(int prev, int next) const {
    const int V = m_.cfg.n_vocab;
    return next == (prev + 1) % V ? std::log(0.5) : std::log(0.5 / (V - 1));
  }
  std::vector<std::pair<int, int>> calls;  // (B, T) of each score call

 private:
  Model m_;
};

TEST(ScoreRequests, LogLikelihoodGreedyAndSharedRows) {
  FakeLM lm(8);
  std::vector<TokenizedRequest> reqs = {
      {{1, 2, 3, 4}, 3},     // 2 after 1, 3 after 2, 4 after 3: all greedy, p = 1/2 each
      {{1, 2, 5}, 1},        // input [1,2] is a prefix of the first's: shares its row; 5 after 2 is not greedy
      {{4, 4, 4, 4, 4}, 3},  // 4 after 4, three times (the first 4 after 4 is context)
      {{6}, 0},              // nothing to score
      {{7, 7}, 1},           // input of 1 token: under 3/4 of the longest, so its own call
  };
  int64_t fed = 0;
  auto s = score_requests(lm, reqs, &fed);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_NEAR(s[0].loglik, 3 * std::log(0.5), 1e-6);
  EXPECT_TRUE(s[0].greedy);
  EXPECT_NEAR(s[1].loglik, std::log(0.5 / 7), 1e-6);
  EXPECT_FALSE(s[1].greedy);
  EXPECT_NEAR(s[2].loglik, 3 * std::log(0.5 / 7), 1e-6);
  EXPECT_FALSE(s[2].greedy);
  EXPECT_EQ(s[3].loglik, 0.0);
  EXPECT_TRUE(s[3].greedy);
  EXPECT_NEAR(s[4].loglik, std::log(0.5 / 7), 1e-6);
  // Rows [4,4,4,4] and [1,2,3] (padded to 4) in one call, [7] alone.
  ASSERT_EQ(lm.calls.size(), 2u);
  EXPECT_EQ(lm.calls[0], std::make_pair(2, 4));
  EXPECT_EQ(lm.calls[1], std::make_pair(1, 1));
  EXPECT_EQ(fed, 4 + 3 + 1);

  // A logits budget of one row splits the batch; the numbers do not change.
  FakeLM small(8);
  auto s2 = score_requests(small, reqs, nullptr, 4 * 8 * sizeof(float));
  EXPECT_EQ(small.calls.size(), 3u);
  for (size_t i = 0; i < s.size(); i++) {
    EXPECT_DOUBLE_EQ(s2[i].loglik, s[i].loglik);
    EXPECT_EQ(s2[i].greedy, s[i].greedy);
  }
  // Token ids the model does not have are an Error, not an out-of-bounds read.
  std::vector<TokenizedRequest> bad = {{{1, 9}, 1}};
  EXPECT_THROW(score_requests(lm, bad), Error);
}

TEST(TokenizeRequest, HarnessSplitWhitespaceBosEosAndTruncation) {
  auto v = test::make_tiny_vocab({{"a", "b"}});
  Tokenizer tok(v.spec);
  RequestEncoding enc;
  enc.eos = 7;
  enc.bos = 6;
  // Plain: context tokens then the continuation's.
  EXPECT_EQ(tokenize_request(tok, {"xy", " b"}, enc).tokens, (Ids{'x', 'y', ' ', 'b'}));
  // Trailing whitespace of the context moves into the continuation.
  TokenizedRequest w = tokenize_request(tok, {"xy ", "b"}, enc);
  EXPECT_EQ(w.tokens, (Ids{'x', 'y', ' ', 'b'}));
  EXPECT_EQ(w.n_cont, 2);
  // A merge across the boundary: encode("xab") = [x, ab] has no more tokens
  // than encode("xa") = [x, a]; the harness would score nothing, we encode
  // the continuation alone.
  EXPECT_EQ(tokenize_request(tok, {"xa", "b"}, enc).tokens, (Ids{'x', 'a', 'b'}));
  // encode("xabb") = [x, ab, b]: the continuation is what follows |encode("xa")| = 2 tokens.
  TokenizedRequest m = tokenize_request(tok, {"xa", "bb"}, enc);
  EXPECT_EQ(m.tokens, (Ids{'x', 'a', 'b'}));
  EXPECT_EQ(m.n_cont, 1);
  // Empty context: EOS stands in; with add_bos, BOS leads.
  EXPECT_EQ(tokenize_request(tok, {"", "q"}, enc).tokens, (Ids{7, 'q'}));
  enc.add_bos = true;
  EXPECT_EQ(tokenize_request(tok, {"xy", " b"}, enc).tokens, (Ids{6, 'x', 'y', ' ', 'b'}));
  enc.add_bos = false;
  // Longer than max_length + 1: cut on the left; n_cont never exceeds size - 1.
  enc.max_length = 3;
  TokenizedRequest t = tokenize_request(tok, {"pqrs", "tuvw"}, enc);
  EXPECT_EQ(t.tokens, (Ids{'t', 'u', 'v', 'w'}));
  EXPECT_EQ(t.n_cont, 3);
}

EvalTask two_choice_task(std::vector<std::vector<std::string>> conts, std::vector<int> gold) {
  EvalTask t;
  t.name = "toy";
  for (size_t i = 0; i < conts.size(); i++) {
    EvalItem it;
    for (auto& c : conts[i]) it.choices.push_back({"ctx", c});
    it.gold = gold[i];
    t.items.push_back(it);
  }
  return t;
}

TEST(TaskMetrics, AccAccNormAndStderrByHand) {
  // item 0: acc picks 0 (-2 > -3, right); norm: -2/2 = -1 < -3/4 picks 1 (wrong).
  // item 1: acc picks 0 (wrong); norm: -1/1 < -1.5/2 picks 1 (right).
  // item 2: " é" is 1 character (2 bytes): -1/1 = -1 < -1.8/2 = -0.9 picks 1 (wrong);
  //         by bytes it would be -0.5 > -0.9, so this item tells the two apart.
  EvalTask t = two_choice_task({{" aa", " bbbb"}, {" a", " bb"}, {" \xC3\xA9", " ab"}}, {0, 1, 0});
  std::vector<std::vector<ChoiceScore>> s = {{{-2, false}, {-3, false}},
                                             {{-1, false}, {-1.5, false}},
                                             {{-1, false}, {-1.8, false}}};
  TaskMetrics m = compute_task_metrics(t, s);
  EXPECT_EQ(m.n, 3);
  EXPECT_DOUBLE_EQ(m.chance, 0.5);
  // acc = [1, 0, 1]: mean 2/3, sample variance 1/3, stderr sqrt(1/3 / 3) = 1/3.
  EXPECT_NEAR(m.find("acc")->value, 2.0 / 3, 1e-12);
  EXPECT_NEAR(m.find("acc")->se, 1.0 / 3, 1e-12);
  EXPECT_NEAR(m.find("acc_norm")->value, 1.0 / 3, 1e-12);
  EXPECT_NEAR(m.find("acc_norm")->se, 1.0 / 3, 1e-12);
  EXPECT_EQ(choice_length(" \xC3\xA9t\xC3\xA9"), 3);
  EXPECT_EQ(choice_length("ab"), 2);  // only one leading delimiter is dropped, if any
}

TEST(TaskMetrics, TiesPickTheFirstChoiceAndChanceAveragesChoiceCounts) {
  EvalTask t = two_choice_task({{" a", " b"}, {" a", " b", " c", " d"}}, {1, 0});
  std::vector<std::vector<ChoiceScore>> s = {{{-1, false}, {-1, false}}, {{-1, false}, {-1, false}, {-1, false}, {-1, false}}};
  TaskMetrics m = compute_task_metrics(t, s);
  EXPECT_DOUBLE_EQ(m.find("acc")->value, 0.5);
  EXPECT_DOUBLE_EQ(m.chance, (0.5 + 0.25) / 2);
}

TEST(TaskMetrics, LambadaAccAndPerplexity) {
  EvalTask t;
  t.name = "lambada";
  t.kind = TaskKind::Lambada;
  t.items.resize(3);
  for (auto& it : t.items) it.choices = {{"c", " w"}};
  std::vector<std::vector<ChoiceScore>> s = {{{-1, true}}, {{-2, false}}, {{-3, true}}};
  TaskMetrics m = compute_task_metrics(t, s);
  EXPECT_NEAR(m.find("acc")->value, 2.0 / 3, 1e-12);
  EXPECT_NEAR(m.find("acc")->se, 1.0 / 3, 1e-12);
  // ppl = exp(-mean ll) = e^2; the log-likelihoods' sample sd is 1, so se = e^2 / sqrt(3).
  EXPECT_NEAR(m.find("ppl")->value, std::exp(2.0), 1e-12);
  EXPECT_NEAR(m.find("ppl")->se, std::exp(2.0) / std::sqrt(3.0), 1e-12);
  EXPECT_EQ(m.chance, 0);
}

TEST(TaskMetrics, StderrNeedsTwoSamples) {
  EXPECT_TRUE(std::isnan(mean_with_stderr({1.0}).se));
  EXPECT_DOUBLE_EQ(mean_with_stderr({1.0, 0.0}).se, 0.5);  // sd 1/sqrt(2), over sqrt(2)
}

TEST(RunTask, TokenizesScoresAndReports) {
  // No merges: every byte is a token (id = byte). After 'a' (97), 'b' (98) has
  // p = 1/2; ' ' (32) has 1/510, and 'b' after ' ' again 1/510.
  auto v = test::make_tiny_vocab({});
  Tokenizer tok(v.spec);
  FakeLM lm(256);
  EvalTask t;
  t.name = "toy";
  t.paper_metric = "acc";
  EvalItem it;
  it.id = "0";
  it.choices = {{"a", "b"}, {"a", " b"}};
  it.gold = 0;
  t.items = {it};
  TaskRun r = run_task(lm, tok, t, true);
  ASSERT_EQ(r.scores.size(), 1u);
  EXPECT_NEAR(r.scores[0][0].loglik, std::log(0.5), 1e-6);
  EXPECT_NEAR(r.scores[0][1].loglik, 2 * std::log(0.5 / 255), 1e-6);
  EXPECT_EQ(r.tokens[0][1].tokens, (Ids{'a', ' ', 'b'}));
  EXPECT_EQ(r.metrics.find("acc")->value, 1.0);
  std::string dump = request_dump_lines(t, r);
  EXPECT_NE(dump.find("\"tokens\":[97,32,98]"), std::string::npos) << dump;
  EXPECT_EQ(std::count(dump.begin(), dump.end(), '\n'), 2);

  // The report: the same run as model and teacher gives ratio 1 and relative 1.
  ModelResults mr{"m.gguf", {r}, 1.0};
  std::string md = eval_markdown({t}, mr, &mr);
  EXPECT_NE(md.find("| toy | 1 | acc (paper) | 100.00 | 100.00 | 1.000 | 1.000 |"), std::string::npos) << md;
  nlohmann::json j = eval_json({t}, mr, &mr, {{"limit", 1}});
  EXPECT_EQ(j["tasks"][0]["relative"]["acc"], 1.0);
  EXPECT_EQ(j["tasks"][0]["model"]["acc"], 1.0);
}

TEST(Report, RelativeScore) {
  EXPECT_NEAR(relative_score(0.6, 0.8, 0.25), 0.35 / 0.55, 1e-12);
  EXPECT_NEAR(relative_score(0.675, 0.696, 0.0), 0.675 / 0.696, 1e-12);  // LAMBADA: chance 0
  EXPECT_TRUE(std::isnan(relative_score(0.3, 0.25, 0.25)));
}

}  // namespace
}  // namespace radlads
