// JSON files (io/json_file.h): a file over the ceiling is refused by its size
// alone (a sparse file: nothing is read), invalid JSON names the file, and
// the atomic writer round-trips.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "io/json_file.h"
#include "test_util.h"

namespace radlads {
using namespace test;

TEST(JsonFile, RefusesAFileOverTheCeilingWithoutReadingIt) {
  TempDir tmp;
  const std::string big = tmp.file("config.json");
  { std::FILE* f = std::fopen(big.c_str(), "wb"); ASSERT_TRUE(f); std::fclose(f); }
  ASSERT_EQ(0, ::truncate(big.c_str(), off_t(kMaxJsonFileBytes) + 1));
  try {
    (void)read_json_file(big);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config.json: 268435457 bytes; a JSON file over 256 MiB is refused"),
              std::string::npos)
        << e.what();
  }
  const std::string bad = tmp.file("bad.json");
  write_json_atomic(tmp.file("ok.json"), nlohmann::json{{"a", 1}});
  EXPECT_EQ(read_json_file(tmp.file("ok.json"))["a"], 1);
  { std::FILE* f = std::fopen(bad.c_str(), "wb"); std::fputs("{\"a\": ", f); std::fclose(f); }
  EXPECT_THROW((void)read_json_file(bad), Error);
}

}  // namespace radlads
