// The registry of student architectures. Everything radlads needs to know of
// one lives in its folder, models/mixers/<name>/, as one MixerArch; the list
// in registry.cpp is the only other place that names it. The rest of the code
// (the student, step 0, the objectives, config.json, GGUF, the CLI) asks the
// registry. docs/ARCHITECTURE.md has the recipe for adding one.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "io/gguf.h"
#include "io/ggml_types.h"
#include "models/mixers/token_mixer.h"
#include "models/model.h"

namespace radlads {

struct MixerArch {
  StudentArch id;
  const char* name;           // --arch and logs: "rad-rwkv6"
  const char* hf_model_type;  // config.json model_type: "rwkv6qwen2"
  const char* hf_class;       // config.json architectures[0]: "RWKV6Qwen2ForCausalLM"
  const char* gguf_arch;      // llama.cpp's general.architecture: "rwkv6qwen2"
  bool value_residual;        // its layers share RAD-RWKV7's v_first (M,A) buffer

  // Options: the paper's defaults for a teacher (DESIGN.md), and the
  // architecture's own config.json fields, both ways (path names the file in
  // errors). Fields every student shares are written by student_options.cpp.
  void (*defaults)(StudentOptions& o, const TeacherConfig& c);
  void (*config_write)(nlohmann::json& j, const StudentOptions& o);
  void (*config_read)(const nlohmann::json& j, StudentOptions& o, const std::string& path);
  // The config.json fields only this architecture has (space-separated): with
  // the shared ones (student_options.cpp), every field a config may carry.
  const char* config_fields;

  // Tensors: the (leaf, shape) list layer `layer` adds under
  // model.layers.<layer>.self_attn., in a fixed order; step 0's value of one
  // of them (the generator is shared in table order, so the order matters);
  // the LoRA ranks read back from a loaded student's shapes.
  void (*layer_tensors)(const TeacherConfig& c, const StudentOptions& o, int layer,
                        std::vector<std::pair<std::string, Shape>>& out);
  void (*init_tensor)(const std::string& leaf, Tensor& t, int layer, int n_layer, std::mt19937_64& rng);
  void (*read_ranks)(const Model& m, StudentOptions& o);

  // The reference's HF layout (its modeling_*.py): from_reference adapts the
  // tensors of a folder it wrote, before they are checked (dropping keys it
  // declares but never reads, adding ones it leaves out that ours carry
  // unused); to_reference lists what a folder for it needs beyond ours
  // (zeros for its declared, unread keys) and which of ours it lacks.
  void (*from_reference)(Model& m);
  void (*to_reference)(const Model& m, std::vector<std::pair<std::string, Tensor>>& add,
                       std::vector<std::string>& omit);
  // The mixer of one layer, computing on be with its buffers from ws (which
  // its owner resets between passes), and its decode state per layer and sequence:
  // state_floats (the recurrent state, all heads) and shift_floats (the
  // previous token's normed input, 0 when it has no token shift).
  std::unique_ptr<TokenMixer> (*make)(const Backend& be, Workspace& ws, const Model& m, int layer);
  int64_t (*state_floats)(const TeacherConfig& c);
  int64_t (*shift_floats)(const TeacherConfig& c);
  // Workspace floats per row of layer `layer`'s training pass (token_mixer.h),
  // from the sizes and options alone: the memory plan needs no weights.
  MixerTrainFloats (*train_floats)(const TeacherConfig& c, const StudentOptions& o, int layer);

  // llama.cpp GGUF: why m is not expressible ("" when it is), the writer and
  // reader of its time-mix tensors and keys, and a line to print after an
  // export ("" for none).
  std::string (*gguf_options_blocker)(const TeacherConfig& c, const StudentOptions& o);  // before any weight exists
  std::string (*gguf_blocker)(const Model& m);
  void (*gguf_write)(GgufWriter& w, const Model& m, GgmlType dtype);
  void (*gguf_read)(const GgufFile& f, Model& m);
  // A GGUF llama.cpp's own converter wrote (no radlads.student_config): the
  // architecture's config.json fields its metadata and tensors imply.
  void (*gguf_config)(const GgufFile& f, nlohmann::json& j);
  std::string (*gguf_export_note)(const Model& m);
};

// The usual recurrent state: an N×N matrix per head (H·N·N floats).
inline int64_t per_head_matrix_state(const TeacherConfig& c) { return int64_t(c.n_head) * c.head_dim * c.head_dim; }

// Every registered architecture, in registry order.
const std::vector<const MixerArch*>& mixer_archs();
const MixerArch& mixer_arch(StudentArch id);                         // CHECKs it is registered
const MixerArch& mixer_arch_by_name(const std::string& name);        // throws Error listing the names
const MixerArch* mixer_arch_by_hf_type(const std::string& model_type);  // nullptr when none
const MixerArch* mixer_arch_by_gguf(const std::string& gguf_arch);      // nullptr when none
std::vector<std::string> mixer_arch_names();

// The softmax-attention mixer of a hybrid student's layer (the teacher's
// attention, trainable): models/mixers/softmax_attention/.
std::unique_ptr<TokenMixer> make_softmax_attention_mixer(const Backend& be, Workspace& ws, const Model& m, int layer);
MixerTrainFloats softmax_attention_train_floats(const TeacherConfig& c);
// Layer l's mixer of a student with options o: its architecture's, or softmax
// attention's in a hybrid's last layers.
MixerTrainFloats layer_train_floats(const TeacherConfig& c, const StudentOptions& o, int l);

}  // namespace radlads
