// MMLU Arrow rows -> EvalItems with the harness's prompt.
#include "eval/mmlu.h"

#include <fmt/format.h>

#include "core/error.h"
#include "eval/arrow_ipc.h"
#include "eval/python_strip.h"

namespace radlads {

namespace {

struct Question {
  std::string question;
  std::vector<std::string> choices;
  int answer = 0;
};

std::vector<Question> read_split(const std::string& path) {
  ArrowTable t = read_arrow_ipc(path);
  const auto& q = t.column("question", ArrowColumn::Kind::Utf8).strings;
  const auto& c = t.column("choices", ArrowColumn::Kind::Utf8List).lists;
  const auto& a = t.column("answer", ArrowColumn::Kind::Int).ints;
  std::vector<Question> out;
  for (int64_t i = 0; i < t.n_rows; i++) {
    if (c[size_t(i)].size() != 4) fail("{}: row {} has {} choices, expected 4", path, i, c[size_t(i)].size());
    if (a[size_t(i)] < 0 || a[size_t(i)] > 3) fail("{}: row {} has answer {}, expected 0..3", path, i, a[size_t(i)]);
    out.push_back({q[size_t(i)], c[size_t(i)], int(a[size_t(i)])});
  }
  return out;
}

// lm-eval's doc_to_text: "{question.strip()}\nA. {c0}\nB. {c1}\nC. {c2}\nD. {c3}\nAnswer:".
std::string question_text(const Question& q) {
  return fmt::format("{}\nA. {}\nB. {}\nC. {}\nD. {}\nAnswer:", python_strip(q.question), q.choices[0],
                     q.choices[1], q.choices[2], q.choices[3]);
}

}  // namespace

const std::vector<std::string>& mmlu_subjects() {
  static const std::vector<std::string> s = {
      "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge",
      "college_biology", "college_chemistry", "college_computer_science", "college_mathematics",
      "college_medicine", "college_physics", "computer_security", "conceptual_physics",
      "econometrics", "electrical_engineering", "elementary_mathematics", "formal_logic",
      "global_facts", "high_school_biology", "high_school_chemistry",
      "high_school_computer_science", "high_school_european_history", "high_school_geography",
      "high_school_government_and_politics", "high_school_macroeconomics",
      "high_school_mathematics", "high_school_microeconomics", "high_school_physics",
      "high_school_psychology", "high_school_statistics", "high_school_us_history",
      "high_school_world_history", "human_aging", "human_sexuality", "international_law",
      "jurisprudence", "logical_fallacies", "machine_learning", "management", "marketing",
      "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition",
      "philosophy", "prehistory", "professional_accounting", "professional_law",
      "professional_medicine", "professional_psychology", "public_relations",
      "security_studies", "sociology", "us_foreign_policy", "virology", "world_religions"};
  return s;
}

MmluData load_mmlu(const std::string& root, const std::vector<std::string>& subjects, int shots,
                   int64_t limit_per_subject) {
  if (shots < 0 || shots > 5) fail("MMLU shots must be 0..5 (the dev split has 5), got {}", shots);
  MmluData out;
  for (const std::string& subject : subjects) {
    std::string test_path = root + "/" + subject + "/test/data-00000-of-00001.arrow";
    std::vector<Question> test = read_split(test_path);
    out.sources.push_back(test_path);
    std::string name = subject;
    for (char& ch : name)
      if (ch == '_') ch = ' ';
    std::string prompt = fmt::format("The following are multiple choice questions (with answers) about {}.\n\n", name);
    if (shots > 0) {
      std::string dev_path = root + "/" + subject + "/dev/data-00000-of-00001.arrow";
      std::vector<Question> dev = read_split(dev_path);
      out.sources.push_back(dev_path);
      if (int(dev.size()) < shots) fail("{}: {} dev questions, fewer than {} shots", dev_path, dev.size(), shots);
      // Few-shot examples end with " {letter}" and are separated by a blank line.
      for (int s = 0; s < shots; s++)
        prompt += question_text(dev[size_t(s)]) + " " + char('A' + dev[size_t(s)].answer) + "\n\n";
    }
    out.n_questions += int64_t(test.size());
    size_t n = test.size();
    if (limit_per_subject >= 0) n = std::min(n, size_t(limit_per_subject));
    for (size_t i = 0; i < n; i++) {
      EvalItem item;
      item.id = fmt::format("{}/{}", subject, i);
      std::string ctx = prompt + question_text(test[i]);
      for (char letter : {'A', 'B', 'C', 'D'}) item.choices.push_back({ctx, std::string(" ") + letter});
      item.gold = test[i].answer;
      out.items.push_back(std::move(item));
    }
  }
  return out;
}

}  // namespace radlads
