// Teacher name table and the {l}-pattern matcher.
#include "models/weight_names.h"

#include <cctype>
#include <iterator>
#include <string_view>

namespace radlads {

static const NamePair kTeacherNames[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
    {"model.layers.{l}.input_layernorm.weight", "blk.{l}.attn_norm.weight"},
    {"model.layers.{l}.self_attn.q_proj.weight", "blk.{l}.attn_q.weight"},
    {"model.layers.{l}.self_attn.q_proj.bias", "blk.{l}.attn_q.bias"},
    {"model.layers.{l}.self_attn.k_proj.weight", "blk.{l}.attn_k.weight"},
    {"model.layers.{l}.self_attn.k_proj.bias", "blk.{l}.attn_k.bias"},
    {"model.layers.{l}.self_attn.v_proj.weight", "blk.{l}.attn_v.weight"},
    {"model.layers.{l}.self_attn.v_proj.bias", "blk.{l}.attn_v.bias"},
    {"model.layers.{l}.self_attn.o_proj.weight", "blk.{l}.attn_output.weight"},
    {"model.layers.{l}.post_attention_layernorm.weight", "blk.{l}.ffn_norm.weight"},
    {"model.layers.{l}.mlp.gate_proj.weight", "blk.{l}.ffn_gate.weight"},
    {"model.layers.{l}.mlp.up_proj.weight", "blk.{l}.ffn_up.weight"},
    {"model.layers.{l}.mlp.down_proj.weight", "blk.{l}.ffn_down.weight"},
};

std::string layer_name(const char* pattern, int layer) {
  std::string s = pattern;
  size_t p = s.find("{l}");
  if (p != std::string::npos) s.replace(p, 3, std::to_string(layer));
  return s;
}

// Matches name against pattern; on success returns the layer index (or -1 for
// patterns without {l}); returns -2 on no match.
static int match(std::string_view name, std::string_view pat) {
  size_t p = pat.find("{l}");
  if (p == std::string_view::npos) return name == pat ? -1 : -2;
  std::string_view pre = pat.substr(0, p), suf = pat.substr(p + 3);
  if (name.size() <= pre.size() + suf.size() || name.substr(0, pre.size()) != pre ||
      name.substr(name.size() - suf.size()) != suf)
    return -2;
  std::string_view num = name.substr(pre.size(), name.size() - pre.size() - suf.size());
  if (num.empty() || num.size() > 6) return -2;
  int l = 0;
  for (char c : num) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return -2;
    l = l * 10 + (c - '0');
  }
  return l;
}

std::string map_name(const std::string& name, const NamePair* table, size_t n, bool to_hf) {
  for (size_t i = 0; i < n; i++) {
    const char* from = to_hf ? table[i].gguf : table[i].hf;
    const char* to = to_hf ? table[i].hf : table[i].gguf;
    int l = match(name, from);
    if (l >= -1) return l == -1 ? std::string(to) : layer_name(to, l);
  }
  return "";
}

std::string teacher_gguf_to_hf(const std::string& g) {
  return map_name(g, kTeacherNames, std::size(kTeacherNames), true);
}
std::string teacher_hf_to_gguf(const std::string& h) {
  return map_name(h, kTeacherNames, std::size(kTeacherNames), false);
}

}  // namespace radlads
