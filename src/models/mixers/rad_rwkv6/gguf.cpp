// RAD-RWKV6 <-> llama.cpp `rwkv6qwen2`. llama.cpp's graph (rwkv6-base.cpp,
// the "qrwkv" path taken when time_mix_first is absent) computes, per layer:
//   xxx = x + δ⊙lerp_x ; m = w2 · tanh(w1 · xxx) in 5 slices ordered w,k,v,r,g
//   x_s = x + δ⊙(m_s + lerp_fused[s]) ; r,k,v = receptance/key/value (+biases)
//   g = σ(gate·x_g) ; w = exp(−exp(decay + decay_w2·tanh(decay_w1·x_w)))
//   k ← k − k⊙w ; GLA state with r scaled by head_size^-0.5 ; out = output(g⊙p)
// which is DESIGN.md's RAD-RWKV6 with its slices r,k,v,w,g reordered, except
// that it has no −5 clamp on log w (see rwkv6_decay_clamp_bound), no RoPE and
// no way to skip k⊙(1−w). Token shift off (use_tokenshift=0) is x_s = x, which
// zero lerp_x, lerp_fused and w1 express exactly.
#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.h"
#include "models/student_gguf.h"
#include "models/student_gguf_arch.h"

namespace radlads::student_gguf {

// Slot s of llama.cpp's order (w,k,v,r,g) holds our slice kFromOurs[s] (r,k,v,w,g).
static constexpr std::array<int, 5> kFromOurs = {3, 1, 2, 0, 4};
static const char* const kMaa[5] = {"time_maa_r", "time_maa_k", "time_maa_v", "time_maa_w", "time_maa_g"};

std::string rwkv6_options_blocker(const TeacherConfig&, const StudentOptions& o) {
  if (o.use_rope) return "use_rope=1: llama.cpp's rwkv6qwen2 applies no RoPE to r and k";
  if (!o.balance_state) return "balance_state=0: llama.cpp's rwkv6qwen2 always writes k*(1-w) into the state";
  if (o.groupnorm_att) return "groupnorm_att=1: llama.cpp's rwkv6qwen2 has no ln_x GroupNorm";
  if (o.gate != GateRank::Full)
    return fmt::format("gate_rank_type={} ({} gate): llama.cpp's rwkv6qwen2 has only the full gate sigmoid(time_mix_gate*x_g)",
                       int(o.gate), gate_rank_name(o.gate));
  return "";
}

std::string rwkv6_blocker(const Model& m) { return rwkv6_options_blocker(m.cfg, m.student); }

// W1 [C, 5R] (our slices along the columns) <-> time_mix_w1 [5R, C] (llama.cpp's slots along the rows).
static Tensor w1_to_gguf(const Tensor& w1, int64_t R) {
  const int64_t C = w1.dim(0);
  Tensor out({5 * R, C});
  for (int s = 0; s < 5; s++)
    for (int64_t j = 0; j < R; j++)
      for (int64_t c = 0; c < C; c++)
        out.data[size_t((s * R + j) * C + c)] = w1.data[size_t(c * 5 * R + kFromOurs[size_t(s)] * R + j)];
  return out;
}
static Tensor w1_from_gguf(const Tensor& g, int64_t R) {
  const int64_t C = g.dim(1);
  Tensor out({C, 5 * R});
  for (int s = 0; s < 5; s++)
    for (int64_t j = 0; j < R; j++)
      for (int64_t c = 0; c < C; c++)
        out.data[size_t(c * 5 * R + kFromOurs[size_t(s)] * R + j)] = g.data[size_t((s * R + j) * C + c)];
  return out;
}

// W2 [5, R, C] <-> time_mix_w2 [5, C, R] (ggml ne {R, C, 5}): each slice transposed, slots reordered.
static Tensor w2_to_gguf(const Tensor& w2) {
  const int64_t R = w2.dim(1), C = w2.dim(2);
  Tensor out({5, C, R});
  for (int s = 0; s < 5; s++)
    for (int64_t j = 0; j < R; j++)
      for (int64_t c = 0; c < C; c++)
        out.data[size_t((s * C + c) * R + j)] = w2.data[size_t((kFromOurs[size_t(s)] * R + j) * C + c)];
  return out;
}
static Tensor w2_from_gguf(const Tensor& g) {
  const int64_t C = g.dim(1), R = g.dim(2);
  Tensor out({5, R, C});
  for (int s = 0; s < 5; s++)
    for (int64_t j = 0; j < R; j++)
      for (int64_t c = 0; c < C; c++)
        out.data[size_t((kFromOurs[size_t(s)] * R + j) * C + c)] = g.data[size_t((s * C + c) * R + j)];
  return out;
}

void rwkv6_write(GgufWriter& w, const Model& m, GgmlType dtype) {
  const TeacherConfig& c = m.cfg;
  const StudentOptions& o = m.student;
  const std::string a = "rwkv6qwen2";
  const int64_t C = c.n_embd, R = o.lora_tokenshift;
  w.set(a + ".time_mix_extra_dim", GgufValue::of_u32(uint32_t(o.lora_tokenshift)));
  w.set(a + ".time_decay_extra_dim", GgufValue::of_u32(uint32_t(o.lora_decay)));
  w.set(a + ".attention.head_count_kv", GgufValue::of_u32(uint32_t(c.n_head_kv)));  // GQA, repeated by llama.cpp
  for (int l = 0; l < c.n_layer; l++) {
    auto P = [&](const char* n) -> const Tensor& { return m.w(attn(l, n)); };
    Tensor lerp_x({C}), fused({5, 1, 1, C}), w1({5 * R, C}), w2({5, C, R});
    if (o.use_tokenshift) {
      lerp_x = reshaped(P("time_maa_x"), {C});
      for (int s = 0; s < 5; s++) {
        const Tensor& src = P(kMaa[kFromOurs[size_t(s)]]);
        std::copy(src.data.begin(), src.data.end(), fused.data.begin() + s * C);
      }
      w1 = w1_to_gguf(P("time_maa_w1"), R);
      w2 = w2_to_gguf(P("time_maa_w2"));
    }  // else all zero: x_s = x exactly
    add(w, blk(l, "time_mix_lerp_x.weight"), lerp_x, dtype);
    add(w, blk(l, "time_mix_lerp_fused.weight"), fused, dtype);
    add(w, blk(l, "time_mix_w1.weight"), w1, dtype);
    add(w, blk(l, "time_mix_w2.weight"), w2, dtype);
    add(w, blk(l, "time_mix_decay.weight"), reshaped(P("time_decay"), {C}), dtype);
    add(w, blk(l, "time_mix_decay_w1.weight"), transpose2d(P("time_decay_w1")), dtype);
    add(w, blk(l, "time_mix_decay_w2.weight"), transpose2d(P("time_decay_w2")), dtype);
    add(w, blk(l, "time_mix_receptance.weight"), P("q_proj.weight"), dtype);
    add(w, blk(l, "time_mix_key.weight"), P("k_proj.weight"), dtype);
    add(w, blk(l, "time_mix_value.weight"), P("v_proj.weight"), dtype);
    if (c.attn_bias) {
      add(w, blk(l, "time_mix_receptance.bias"), P("q_proj.bias"), dtype);
      add(w, blk(l, "time_mix_key.bias"), P("k_proj.bias"), dtype);
      add(w, blk(l, "time_mix_value.bias"), P("v_proj.bias"), dtype);
    }
    add(w, blk(l, "time_mix_gate.weight"), P("gate.weight"), dtype);
    add(w, blk(l, "time_mix_output.weight"), P("o_proj.weight"), dtype);
  }
}

// What llama.cpp's converter writes for RWKV6Qwen2 says of the options: its
// graph has a token shift, balance_state (k⊙(1−w)), the full gate, no RoPE and
// no ln_x; GQA comes as attention.head_count_kv.
void rwkv6_config(const GgufFile& f, nlohmann::json& j) {
  if (f.find_tensor("blk.0.time_mix_first.weight"))
    fail("{}: tensor 'blk.0.time_mix_first.weight': the RWKV6 bonus u, which RAD-RWKV6 lacks (llama.cpp computes "
         "another function with it)", f.path());
  const int64_t H = j.at("num_attention_heads").get<int64_t>();
  const int64_t kv = f.opt_int("rwkv6qwen2.attention.head_count_kv").value_or(0);
  if (kv < 0 || (kv > 0 && H % kv != 0))
    fail("{}: rwkv6qwen2.attention.head_count_kv {} does not divide the {} heads", f.path(), kv, H);
  j["num_key_value_heads"] = kv > 0 ? kv : H;
  j["use_tokenshift"] = true;
  j["balance_state"] = true;
  j["groupnorm_att"] = false;
  j["gate_rank_type"] = int(GateRank::Full);
  j["lora_rank_tokenshift"] = f.get_int("rwkv6qwen2.time_mix_extra_dim");
  j["lora_rank_decay"] = f.get_int("rwkv6qwen2.time_decay_extra_dim");
}

void rwkv6_read(const GgufFile& f, Model& m) {
  const TeacherConfig& c = m.cfg;
  const int64_t C = c.n_embd, KD = int64_t(c.n_head_kv) * c.head_dim;
  const int64_t R = f.get_int("rwkv6qwen2.time_mix_extra_dim"), Rd = f.get_int("rwkv6qwen2.time_decay_extra_dim");
  if (f.get_int("rwkv6qwen2.attention.head_count_kv") != c.n_head_kv)
    fail("{}: attention.head_count_kv disagrees with the student config", f.path());
  for (int l = 0; l < c.n_layer; l++) {
    auto put = [&](const char* n, Tensor t) { m.weights[attn(l, n)] = std::move(t); };
    auto get = [&](const char* n, Shape s) { return load(f, blk(l, n), std::move(s)); };
    Tensor fused = get("time_mix_lerp_fused.weight", {5, 1, 1, C});
    put("time_maa_x", reshaped(get("time_mix_lerp_x.weight", {C}), {1, 1, C}));
    for (int s = 0; s < 5; s++) {
      Tensor t({1, 1, C});
      std::copy_n(fused.data.begin() + s * C, C, t.data.begin());
      put(kMaa[kFromOurs[size_t(s)]], std::move(t));
    }
    put("time_maa_w1", w1_from_gguf(get("time_mix_w1.weight", {5 * R, C}), R));
    put("time_maa_w2", w2_from_gguf(get("time_mix_w2.weight", {5, C, R})));
    put("time_decay", reshaped(get("time_mix_decay.weight", {C}), {1, 1, C}));
    put("time_decay_w1", transpose2d(get("time_mix_decay_w1.weight", {Rd, C})));
    put("time_decay_w2", transpose2d(get("time_mix_decay_w2.weight", {C, Rd})));
    put("q_proj.weight", get("time_mix_receptance.weight", {C, C}));
    put("k_proj.weight", get("time_mix_key.weight", {KD, C}));
    put("v_proj.weight", get("time_mix_value.weight", {KD, C}));
    if (c.attn_bias) {
      put("q_proj.bias", get("time_mix_receptance.bias", {C}));
      put("k_proj.bias", get("time_mix_key.bias", {KD}));
      put("v_proj.bias", get("time_mix_value.bias", {KD}));
    }
    put("gate.weight", get("time_mix_gate.weight", {C, C}));
    put("o_proj.weight", get("time_mix_output.weight", {C, C}));
  }
}

}  // namespace radlads::student_gguf

namespace radlads {

using student_gguf::attn;

DecayClampBound rwkv6_decay_clamp_bound(const Model& m) {
  DecayClampBound b;
  if (m.student.arch != StudentArch::RWKV6) return b;
  const double ln5 = std::log(5.0);
  for (int l = 0; l < m.cfg.n_layer; l++) {
    if (m.student.softmax_layer(l, m.cfg.n_layer)) continue;
    const Tensor& td = m.w(attn(l, "time_decay"));
    const Tensor& w2 = m.w(attn(l, "time_decay_w2"));  // [Rd, A]
    const int64_t A = td.numel(), R = w2.dim(0);
    for (int64_t c = 0; c < A; c++) {
      double bound = td.data[size_t(c)];
      for (int64_t j = 0; j < R; j++) bound += std::fabs(w2.data[size_t(j * A + c)]);
      b.channels++;
      b.may_bind += bound > ln5;
      b.max_bound = std::max(b.max_bound, bound);
    }
  }
  return b;
}

}  // namespace radlads
