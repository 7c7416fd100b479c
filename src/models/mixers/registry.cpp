// The registered student architectures: one line each.
#include "core/error.h"
#include "models/mixers/mixer_arch.h"

namespace radlads {

const MixerArch& rad_rwkv6_arch();  // models/mixers/rad_rwkv6/arch.cpp
const MixerArch& rad_rwkv7_arch();  // models/mixers/rad_rwkv7/arch.cpp

const std::vector<const MixerArch*>& mixer_archs() {
  static const std::vector<const MixerArch*> all = {
      &rad_rwkv6_arch(),
      &rad_rwkv7_arch(),
  };
  return all;
}

const MixerArch& mixer_arch(StudentArch id) {
  for (const MixerArch* a : mixer_archs())
    if (a->id == id) return *a;
  CHECK(false, "student architecture {} is not registered", int(id));
  return *mixer_archs().front();
}

MixerTrainFloats layer_train_floats(const TeacherConfig& c, const StudentOptions& o, int l) {
  return o.softmax_layer(l, c.n_layer) ? softmax_attention_train_floats(c) : mixer_arch(o.arch).train_floats(c, o, l);
}

std::vector<std::string> mixer_arch_names() {
  std::vector<std::string> out;
  for (const MixerArch* a : mixer_archs()) out.push_back(a->name);
  return out;
}

const MixerArch& mixer_arch_by_name(const std::string& name) {
  for (const MixerArch* a : mixer_archs())
    if (name == a->name) return *a;
  std::string names;
  for (const std::string& n : mixer_arch_names()) names += (names.empty() ? "" : ", ") + n;
  fail("unknown student architecture '{}' ({})", name, names);
}

const MixerArch* mixer_arch_by_hf_type(const std::string& model_type) {
  for (const MixerArch* a : mixer_archs())
    if (model_type == a->hf_model_type) return a;
  return nullptr;
}

const MixerArch* mixer_arch_by_gguf(const std::string& gguf_arch) {
  for (const MixerArch* a : mixer_archs())
    if (gguf_arch == a->gguf_arch) return a;
  return nullptr;
}

}  // namespace radlads
