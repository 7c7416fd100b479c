// The request parser's new fields (n, logprobs, top_logprobs, echo) and the
// token log-probabilities against a naive double-precision log-softmax.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "serve/logprobs.h"
#include "serve/openai_request.h"

namespace radlads::serve {
namespace {

CompletionRequest parse(const std::string& body, bool chat = false) {
  ServeLimits l;
  l.max_sessions = 8;
  return parse_completion_request(body, chat, l);
}

int status_of(const std::string& body, bool chat = false) {
  try {
    parse(body, chat);
    return 200;
  } catch (const RequestError& e) {
    return e.status;
  }
}

TEST(OpenaiRequest, CompletionLogprobsNAndEcho) {
  const CompletionRequest r = parse(R"({"prompt": "x", "n": 3, "logprobs": 5, "echo": true, "max_tokens": 0})");
  EXPECT_EQ(r.n, 3);
  EXPECT_EQ(r.logprobs, 5);
  EXPECT_TRUE(r.echo);
  EXPECT_EQ(r.max_tokens, 0);
  EXPECT_EQ(parse(R"({"prompt": "x"})").logprobs, -1);
  EXPECT_EQ(parse(R"({"prompt": "x", "logprobs": 0})").logprobs, 0);
  for (const char* bad : {R"({"prompt": "x", "logprobs": 6})", R"({"prompt": "x", "logprobs": true})",
                          R"({"prompt": "x", "n": 9})", R"({"prompt": "x", "n": 0})", R"({"prompt": "x", "n": 1.5})",
                          R"({"prompt": "x", "max_tokens": 0})", R"({"prompt": "x", "echo": 1})"})
    EXPECT_EQ(status_of(bad), 400) << bad;
}

TEST(OpenaiRequest, ChatLogprobsAndTopLogprobs) {
  const std::string m = R"("messages": [{"role": "user", "content": "hi"}])";
  EXPECT_EQ(parse("{" + m + R"(, "logprobs": true, "top_logprobs": 20})", true).logprobs, 20);
  EXPECT_EQ(parse("{" + m + R"(, "logprobs": true})", true).logprobs, 0);
  EXPECT_EQ(parse("{" + m + R"(, "logprobs": false})", true).logprobs, -1);
  for (const std::string& bad : {"{" + m + R"(, "top_logprobs": 2})", "{" + m + R"(, "logprobs": 3})",
                                 "{" + m + R"(, "logprobs": true, "top_logprobs": 21})",
                                 "{" + m + R"(, "max_tokens": 0, "echo": true})"})
    EXPECT_EQ(status_of(bad, true), 400) << bad;
}

TEST(TokenLogprob, EqualsANaiveLogSoftmaxAndItsTopK) {
  std::mt19937 g(3);
  std::normal_distribution<float> n(0.0f, 4.0f);
  std::vector<float> logits(5000);
  for (auto& x : logits) x = n(g);
  logits[17] = logits[18];  // a tie: the lower id first
  double mx = *std::max_element(logits.begin(), logits.end()), sum = 0;
  for (float x : logits) sum += std::exp(double(x) - mx);
  auto naive = [&](int i) { return double(logits[size_t(i)]) - mx - std::log(sum); };
  std::vector<int> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[size_t(a)] > logits[size_t(b)]; });
  for (int k : {0, 1, 5, 20}) {
    const TokenLogprob lp = token_logprob(logits, 123, k);
    EXPECT_EQ(lp.id, 123);
    EXPECT_NEAR(lp.logprob, naive(123), 1e-5);
    ASSERT_EQ(int(lp.top.size()), k);
    for (int i = 0; i < k; i++) {
      EXPECT_EQ(lp.top[size_t(i)].first, order[size_t(i)]) << "rank " << i;
      EXPECT_NEAR(lp.top[size_t(i)].second, naive(order[size_t(i)]), 1e-5);
    }
  }
}

}  // namespace
}  // namespace radlads::serve
