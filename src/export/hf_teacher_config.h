// config.json for a teacher that came from GGUF (no config of its own), so
// that `radlads export --format hf` writes a folder HF transformers and we load.
#pragma once

#include <nlohmann/json.hpp>

#include "models/teacher_config.h"

namespace radlads {

nlohmann::json teacher_hf_config(const TeacherConfig& c);

}  // namespace radlads
