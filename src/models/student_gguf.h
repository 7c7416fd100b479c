// Students as GGUF that llama.cpp runs, and back. RAD-RWKV6 becomes llama.cpp's
// `rwkv6qwen2` (the layout convert_hf_to_gguf.py writes for RWKV6Qwen2);
// RAD-RWKV7 becomes `arwkv7` only where that graph computes our function
// (no RoPE, balance_state=0, no q/k/v biases; see models/mixers/rad_rwkv7/gguf.cpp).
// Everything else is refused with one sentence naming what prevents it: an
// export that silently computes another function would be worse than none.
#pragma once

#include <string>

#include "io/ggml_types.h"
#include "models/model.h"

namespace radlads {

// "" when llama.cpp can run m exactly (up to RAD-RWKV6's log-w clamp, see
// below); otherwise why not, naming the option or field.
std::string student_gguf_blocker(const Model& m);
// The same from the options and the teacher's sizes alone (step 0, before any
// weight exists): why a student made so could not be exported ("" when it could).
std::string student_gguf_options_blocker(const TeacherConfig& c, const StudentOptions& o);

// Writes m (a student) to path. Throws Error with student_gguf_blocker's
// sentence when it is not expressible. dtype: F32, F16, BF16, Q8_0 for the big
// matrices; vectors, biases and the LoRA/token-shift tensors stay F32 as
// llama.cpp's converter keeps them.
void export_student_gguf(const Model& m, const std::string& path, GgmlType dtype);

// RAD-RWKV6 clamps log w = max(−exp(d), −5); llama.cpp does not. Since
// d = time_decay + tanh(·)·decay_W2 and |tanh| ≤ 1, d ≤ time_decay[c] +
// Σ_j |decay_W2[j,c]| bounds every token: where that bound is ≤ ln 5 the clamp
// can never bind and the export is exact.
struct DecayClampBound {
  int64_t channels = 0;   // time-mix channels over all layers
  int64_t may_bind = 0;   // channels whose bound exceeds ln 5
  double max_bound = -1e30;  // the largest bound seen
};
DecayClampBound rwkv6_decay_clamp_bound(const Model& m);

// True when path is a GGUF file whose general.architecture is one we export.
bool is_student_gguf(const std::string& path);

// Reads a file written by export_student_gguf back into a student (exact at
// f32: re-exporting it gives the same bytes). Throws Error naming the file and
// field when it was not written by radlads or is inconsistent.
Model import_student_gguf(const std::string& path);

}  // namespace radlads
