#include "train/lr_schedule.h"

#include "core/error.h"

namespace radlads {

LrSchedule::Kind LrSchedule::kind_from_name(const std::string& s) {
  if (s == "cosine") return Cosine;
  if (s == "flat") return Flat;
  fail("unknown learning-rate schedule '{}' (cosine or flat)", s);
}

}  // namespace radlads
