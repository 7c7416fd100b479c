// A model's parameters live in one allocation (models/model.h,
// pack_parameters): every weight is a slice of m.params, in name order, and
// reads and writes go to it; a copied Model owns copies.
#include <gtest/gtest.h>

#include "models/golden_models.h"
#include "models/student_weights.h"
#include "test_util.h"

namespace radlads {
namespace {

void expect_packed(const Model& m, const std::string& what) {
  ASSERT_TRUE(m.params) << what;
  const char* base = static_cast<const char*>(m.params->data());
  const char* end = base + m.params->bytes();
  ASSERT_EQ(m.params->size(), m.weights.size()) << what;
  size_t i = 0;
  const char* prev = base - 1;
  for (auto& [name, t] : m.weights) {
    const char* p = reinterpret_cast<const char*>(t.ptr());
    EXPECT_TRUE(t.data.is_view()) << what << " " << name;
    EXPECT_GE(p, base) << what << " " << name;
    EXPECT_LE(p + t.numel() * 4, end) << what << " " << name;
    EXPECT_GT(p, prev) << what << ": " << name << " out of name order";
    EXPECT_EQ(m.params->name(i), name);
    EXPECT_EQ(m.params->spec(i).shape, t.shape);
    prev = p;
    i++;
  }
}

TEST(ParameterArena, OpenedAndInitialisedModelsArePacked) {
  Model t = open_model(test::golden_model("qwen2"));
  expect_packed(t, "teacher");
  Model s = init_student(t, StudentOptions::defaults(StudentArch::RWKV7, t.cfg), 3);
  expect_packed(s, "student");
  // Writes through the tensor land in the arena.
  Tensor& w = s.weights.at("model.norm.weight");
  w.data[3] = 42.0f;
  EXPECT_EQ(s.params->at("model.norm.weight")[3], 42.0f);
  // Assigning a whole tensor, by move as by copy, writes into the slice: the
  // weight stays in the arena.
  Tensor fresh(w.shape);
  fresh.data[0] = 7.0f;
  w = std::move(fresh);
  EXPECT_TRUE(w.data.is_view());
  EXPECT_EQ(s.params->at("model.norm.weight")[0], 7.0f);
  w.data[3] = 42.0f;
  // A copy owns its values: writing it leaves the packed model alone.
  Model c = s;
  EXPECT_FALSE(c.weights.at("model.norm.weight").data.is_view());
  c.weights.at("model.norm.weight").data[3] = -1.0f;
  EXPECT_EQ(w.data[3], 42.0f);
  EXPECT_EQ(c.weights.at("model.norm.weight").data[3], -1.0f);
}

}  // namespace
}  // namespace radlads
