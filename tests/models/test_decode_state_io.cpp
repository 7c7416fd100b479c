// DecodeState::save / load and clone: a state written to bytes and read into a
// fresh state of the same model (teacher KV cache, student recurrent state,
// hybrid student with both) continues exactly as the original; bytes of
// another model, or cut short, are refused naming the file.
#include <string>
#include <vector>

#include "core/byte_reader.h"
#include "core/error.h"
#include "infer/language_model.h"
#include "models/golden_models.h"
#include "models/random_student.h"
#include "test_util.h"

namespace radlads {
using namespace test;

namespace {

void check_round_trip(LanguageModel& lm, const std::string& what) {
  const auto ids = golden_tokens("qwen2");
  const int V = lm.n_vocab(), half = int(ids.size()) / 2;
  std::vector<float> a(static_cast<size_t>(V)), b(static_cast<size_t>(V)), c(static_cast<size_t>(V));
  auto st = lm.new_state(64);
  st->feed(ids.data(), half, nullptr);
  std::string bytes;
  st->save(bytes);
  auto fork = st->clone();
  st->feed(ids.data() + half, int(ids.size()) - half, a.data());
  auto back = lm.new_state(64);
  ByteReader r({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "<" + what + ">");
  back->load(r);
  EXPECT_EQ(r.pos(), bytes.size()) << what;
  EXPECT_EQ(back->n_past(), half) << what;
  back->feed(ids.data() + half, int(ids.size()) - half, b.data());
  fork->feed(ids.data() + half, int(ids.size()) - half, c.data());
  EXPECT_EQ(a, b) << what << ": the loaded state continues as the original";
  EXPECT_EQ(a, c) << what << ": the clone continues as the original";
  // Cut short: an error naming the file, not a crash or a half-loaded state.
  ByteReader cut({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size() / 2}, "<cut>");
  auto other = lm.new_state(64);
  EXPECT_THROW(other->load(cut), Error) << what;
}

}  // namespace

TEST(DecodeStateIo, TeacherKvCacheRoundTrips) {
  auto lm = make_language_model(cpu_backend(), open_model(golden_model("qwen2")));
  check_round_trip(*lm, "teacher");
}

TEST(DecodeStateIo, StudentStatesRoundTrip) {
  for (const StudentSpec& spec : {StudentSpec{StudentArch::RWKV6, "qwen2"}, StudentSpec{StudentArch::RWKV7, "qwen2", 1, 0},
                                  StudentSpec{StudentArch::RWKV7, "qwen2", 1, 0, 1, 0, 1}}) {
    auto lm = make_language_model(cpu_backend(), random_student(spec, 5));
    check_round_trip(*lm, std::string(lm->model().student.arch_name()) + (spec.attention_layers ? " hybrid" : ""));
  }
}

TEST(DecodeStateIo, AnotherModelsStateIsRefused) {
  auto v6 = make_language_model(cpu_backend(), random_student({StudentArch::RWKV6, "qwen2"}, 5));
  auto v7 = make_language_model(cpu_backend(), random_student({StudentArch::RWKV7, "llama", 1, 0}, 5));
  auto st = v6->new_state(16);
  std::string bytes;
  st->save(bytes);
  ByteReader r({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "<v6 state>");
  auto other = v7->new_state(16);
  try {
    other->load(r);
    ADD_FAILURE() << "a RAD-RWKV6 state (with a token shift) loaded into a RAD-RWKV7";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("<v6 state>"), std::string::npos) << e.what();
  }
}

}  // namespace radlads
