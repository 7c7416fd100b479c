// RAD-RWKV7 <-> llama.cpp `arwkv7`. llama.cpp's graph (rwkv7-base.cpp) computes
// per layer, on x_s = lerp(x, x₋₁, lerp_fused[s]) for s = r,w,k,v,a,g:
//   r,k,v = receptance/key/value (full width, no biases, no RoPE)
//   w = exp(−e^−0.5·σ(w0 + w2·tanh(w1·x_w))) ; a = σ(a0 + a2·a1·x_a) ; g = g2·σ(g1·x_g)
//   v ← v + (v_first − v)⊙σ(v0 + v2·v1·x_v) (layers > 0)
//   κ = normalize(k⊙k_k) ; k ← k⊙(1 + (a−1)⊙k_a)
//   S ← S·(diag(w) − κᵀ(a⊙κ)) + vᵀk ; p = S r ; GroupNorm(eps 64e-5)·ln_x when ln_x exists
//   p += v·Σ(r⊙k⊙r_k) ; out = output(g⊙p)
// That is our RAD-RWKV7 (DESIGN.md) exactly when lerp_fused = 0 (we have no
// token shift), r_k = 0 (no bonus), k/v expanded to all H heads (GQA), and
// balance_state = 0. It is not when:
//  - use_rope = 1: no RoPE in the graph (position-dependent, so no weight folds it);
//  - balance_state = 1: ours writes k⊙(1−w+a) and forgets along k/‖k‖; arwkv7
//    writes k⊙(1+(a−1)⊙k_a), which equals it only if k_a = (a−w)/(a−1), a
//    per-token quantity no constant k_a holds (and it has no N^-1/2 on p);
//  - q/k/v biases (Qwen2 teachers): arwkv7 has none.
// GroupNorm's eps: ours is N·1e-5, llama.cpp's 64e-5. Scaling r by c scales p
// by c (p is linear in r, r_k = 0), and GroupNorm(c·p, ε) = GroupNorm(p, ε/c²),
// so receptance·c with c = √(64/N) makes llama.cpp's eps equal ours exactly.
#include <cmath>

#include "core/error.h"
#include "models/student_gguf_arch.h"

namespace radlads::student_gguf {

static bool any_nonzero(const Model& m, const std::string& name) {
  const Tensor* t = m.find(name);
  if (!t) return false;
  for (float x : t->data)
    if (x != 0.0f) return true;
  return false;
}

std::string rwkv7_options_blocker(const TeacherConfig& c, const StudentOptions& o) {
  if (o.use_rope) return "use_rope=1: llama.cpp's arwkv7 applies no RoPE to r and k (RoPE depends on the position, so no weight can hold it)";
  if (o.balance_state)
    return "balance_state=1: llama.cpp's arwkv7 writes k*(1+(a-1)*k_a) into the state and forgets along normalize(k*k_k); "
           "ours writes k*(1-w+a) along k/|k| and scales the output by N^-1/2, which no constant k_a/k_k expresses";
  if (o.gate == GateRank::Full)
    return "gate_rank_type=1 (full gate): llama.cpp's arwkv7 has the low-rank gate g2*sigmoid(g1*x) or none";
  if (c.attn_bias)
    return "the teacher's q/k/v biases (the student starts from them): llama.cpp's arwkv7 receptance/key/value have no "
           "biases; rad-rwkv6 (rwkv6qwen2) has them";
  return "";
}

std::string rwkv7_blocker(const Model& m) {
  const StudentOptions& o = m.student;
  TeacherConfig no_bias = m.cfg;  // a bias read as zero passes: the weights decide below
  no_bias.attn_bias = false;
  if (std::string why = rwkv7_options_blocker(no_bias, o); !why.empty()) return why;
  for (int l = 0; l < m.cfg.n_layer; l++)
    for (const char* b : {"q_proj.bias", "k_proj.bias", "v_proj.bias"})
      if (any_nonzero(m, attn(l, b)))
        return fmt::format("non-zero attention bias {}: llama.cpp's arwkv7 receptance/key/value have no biases", attn(l, b));
  return "";
}

// r scale that turns llama.cpp's fixed GroupNorm eps 64e-5 into ours, N·1e-5;
// without GroupNorm it carries our output scale (p is linear in r). Both hold
// only with balance_state = 0, where the GroupNorm path has no pre-scale.
static double r_scale(const Model& m) {
  return m.student.groupnorm_att ? std::sqrt(64.0 / double(m.cfg.head_dim))
                                 : double(m.student.rwkv7_output_scale(m.cfg.head_dim));
}

// [KVH*N, C] -> [H*N, C]: head h reads kv head h / (H/KVH), as ours and HF's repeat_kv do.
static Tensor expand_heads(const Tensor& t, int H, int KVH, int N) {
  const int64_t C = t.dim(1), group = H / KVH;
  Tensor out({int64_t(H) * N, C});
  for (int64_t h = 0; h < H; h++)
    std::copy_n(t.data.begin() + (h / group) * N * C, N * C, out.data.begin() + h * N * C);
  return out;
}

static Tensor vec(const Tensor& t) { return reshaped(t, {t.numel()}); }

void rwkv7_write(GgufWriter& w, const Model& m, GgmlType dtype) {
  const TeacherConfig& c = m.cfg;
  const StudentOptions& o = m.student;
  const std::string a = "arwkv7";
  const int64_t C = c.n_embd;
  w.set(a + ".attention.decay_lora_rank", GgufValue::of_u32(uint32_t(o.lora_decay)));
  w.set(a + ".attention.iclr_lora_rank", GgufValue::of_u32(uint32_t(o.lora_iclr)));
  w.set(a + ".attention.value_residual_mix_lora_rank", GgufValue::of_u32(uint32_t(o.lora_value)));
  const bool gated = o.gate == GateRank::LowRank;  // else no gate (the options blocker refuses the full one)
  w.set(a + ".attention.gate_lora_rank", GgufValue::of_u32(gated ? uint32_t(o.lora_gate) : 0));
  const float rs = float(r_scale(m));
  for (int l = 0; l < c.n_layer; l++) {
    auto P = [&](const char* n) -> const Tensor& { return m.w(attn(l, n)); };
    // No token shift: zeros, one slice per input (r,w,k,v,a and g when gated).
    add(w, blk(l, "time_mix_lerp_fused.weight"), Tensor({gated ? 6 : 5, 1, 1, C}), dtype);
    add(w, blk(l, "time_mix_w0.weight"), vec(P("w0")), dtype);
    add(w, blk(l, "time_mix_w1.weight"), transpose2d(P("w1")), dtype);
    add(w, blk(l, "time_mix_w2.weight"), transpose2d(P("w2")), dtype);
    add(w, blk(l, "time_mix_a0.weight"), vec(P("a0")), dtype);
    add(w, blk(l, "time_mix_a1.weight"), transpose2d(P("a1")), dtype);
    add(w, blk(l, "time_mix_a2.weight"), transpose2d(P("a2")), dtype);
    if (l > 0) {
      add(w, blk(l, "time_mix_v0.weight"), vec(P("v0")), dtype);
      add(w, blk(l, "time_mix_v1.weight"), transpose2d(P("v1")), dtype);
      add(w, blk(l, "time_mix_v2.weight"), transpose2d(P("v2")), dtype);
    } else {  // llama.cpp loads (never uses) layer-0 value-mix tensors of the iclr rank
      add(w, blk(l, "time_mix_v0.weight"), Tensor({C}), dtype);
      add(w, blk(l, "time_mix_v1.weight"), Tensor({o.lora_iclr, C}), dtype);
      add(w, blk(l, "time_mix_v2.weight"), Tensor({C, o.lora_iclr}), dtype);
    }
    if (gated) {
      add(w, blk(l, "time_mix_g1.weight"), transpose2d(P("g1")), dtype);
      add(w, blk(l, "time_mix_g2.weight"), transpose2d(P("g2")), dtype);
    }
    add(w, blk(l, "time_mix_k_k.weight"), vec(P("k_k")), dtype);
    add(w, blk(l, "time_mix_k_a.weight"), vec(P("k_a")), dtype);
    add(w, blk(l, "time_mix_r_k.weight"), Tensor({C}), dtype);  // no bonus term
    Tensor r = P("q_proj.weight");
    if (rs != 1.0f)
      for (auto& x : r.data) x *= rs;
    add(w, blk(l, "time_mix_receptance.weight"), r, dtype);
    add(w, blk(l, "time_mix_key.weight"), expand_heads(P("k_proj.weight"), c.n_head, c.n_head_kv, c.head_dim), dtype);
    add(w, blk(l, "time_mix_value.weight"), expand_heads(P("v_proj.weight"), c.n_head, c.n_head_kv, c.head_dim), dtype);
    if (o.groupnorm_att) {
      add(w, blk(l, "time_mix_ln.weight"), P("ln_x.weight"), dtype);
      add(w, blk(l, "time_mix_ln.bias"), P("ln_x.bias"), dtype);
    }
    add(w, blk(l, "time_mix_output.weight"), P("o_proj.weight"), dtype);
  }
}

static void require_zero(const GgufFile& f, const std::string& name, const Tensor& t, const char* why) {
  for (float x : t.data)
    if (x != 0.0f) fail("{}: tensor '{}' is not zero; radlads' RAD-RWKV7 has {}", f.path(), name, why);
}

// What llama.cpp's converter writes for ARWKV7 says of the options: no RoPE,
// balance_state 0 (k_k, k_a), full-width keys and values (no GQA), GroupNorm
// where time_mix_ln exists, the low-rank gate where g1/g2 exist (else none).
// Its token shift and bonus must be zero (rwkv7_read checks): RAD-RWKV7 has neither.
void rwkv7_config(const GgufFile& f, nlohmann::json& j) {
  const std::string a = "arwkv7.attention.";
  const bool gated = f.opt_int(a + "gate_lora_rank").value_or(0) > 0 && f.find_tensor("blk.0.time_mix_g1.weight");
  j["use_tokenshift"] = false;
  j["balance_state"] = false;
  j["groupnorm_att"] = f.find_tensor("blk.0.time_mix_ln.weight") != nullptr;
  j["rwkv7_output_scale"] = "groupnorm";  // llama.cpp's rule is the reference's
  j["gate_rank_type"] = int(gated ? GateRank::LowRank : GateRank::None);
  j["lora_rank_decay"] = f.get_int(a + "decay_lora_rank");
  j["lora_rank_iclr"] = f.get_int(a + "iclr_lora_rank");
  j["lora_rank_value_residual_mix"] = f.get_int(a + "value_residual_mix_lora_rank");
  j["lora_rank_gate"] = gated ? f.get_int(a + "gate_lora_rank") : 0;
}

void rwkv7_read(const GgufFile& f, Model& m) {
  const TeacherConfig& c = m.cfg;
  const StudentOptions& o = m.student;
  const int64_t C = c.n_embd, N = c.head_dim, KD = int64_t(c.n_head_kv) * N, group = c.n_head / c.n_head_kv;
  auto rank = [&](const char* k) { return f.get_int(std::string("arwkv7.attention.") + k); };
  const int64_t Rw = rank("decay_lora_rank"), Ra = rank("iclr_lora_rank"), Rv = rank("value_residual_mix_lora_rank"),
                Rg = f.opt_int("arwkv7.attention.gate_lora_rank").value_or(0);  // optional in llama.cpp
  const float inv_rs = float(1.0 / r_scale(m));
  const bool gated = o.gate == GateRank::LowRank;
  for (int l = 0; l < c.n_layer; l++) {
    auto put = [&](const char* n, Tensor t) { m.weights[attn(l, n)] = std::move(t); };
    auto get = [&](const char* n, Shape s) { return load(f, blk(l, n), std::move(s)); };
    auto row = [&](const char* n) { return reshaped(get(n, {C}), {1, 1, C}); };
    require_zero(f, blk(l, "time_mix_lerp_fused.weight"), get("time_mix_lerp_fused.weight", {gated ? 6 : 5, 1, 1, C}),
                 "no token shift");
    require_zero(f, blk(l, "time_mix_r_k.weight"), get("time_mix_r_k.weight", {C}), "no bonus term");
    put("w0", row("time_mix_w0.weight"));
    put("w1", transpose2d(get("time_mix_w1.weight", {Rw, C})));
    put("w2", transpose2d(get("time_mix_w2.weight", {C, Rw})));
    put("a0", row("time_mix_a0.weight"));
    put("a1", transpose2d(get("time_mix_a1.weight", {Ra, C})));
    put("a2", transpose2d(get("time_mix_a2.weight", {C, Ra})));
    if (l > 0) {
      put("v0", row("time_mix_v0.weight"));
      put("v1", transpose2d(get("time_mix_v1.weight", {Rv, C})));
      put("v2", transpose2d(get("time_mix_v2.weight", {C, Rv})));
    }
    if (gated) {
      put("g1", transpose2d(get("time_mix_g1.weight", {Rg, C})));
      put("g2", transpose2d(get("time_mix_g2.weight", {C, Rg})));
    }
    put("k_k", row("time_mix_k_k.weight"));
    put("k_a", row("time_mix_k_a.weight"));
    Tensor r = get("time_mix_receptance.weight", {C, C});
    if (inv_rs != 1.0f)
      for (auto& x : r.data) x *= inv_rs;
    put("q_proj.weight", std::move(r));
    for (auto [gname, hf] : {std::pair{"time_mix_key.weight", "k_proj.weight"}, std::pair{"time_mix_value.weight", "v_proj.weight"}}) {
      Tensor full = get(gname, {C, C}), kv({KD, C});
      for (int64_t h = 0; h < c.n_head; h++) {  // every head of a group must carry the same rows
        const float* src = full.data.data() + h * N * C;
        float* dst = kv.data.data() + (h / group) * N * C;
        if (h % group == 0) std::copy_n(src, N * C, dst);
        else if (!std::equal(src, src + N * C, dst))
          fail("{}: tensor '{}' head {} differs from its GQA group's first head", f.path(), blk(l, gname), h);
      }
      put(hf, std::move(kv));
    }
    if (c.attn_bias)  // all zero (the export refuses others); keep the teacher's tensor set
      for (auto [n, d] : {std::pair{"q_proj.bias", C}, std::pair{"k_proj.bias", KD}, std::pair{"v_proj.bias", KD}})
        put(n, Tensor({d}));
    if (o.groupnorm_att) {
      put("ln_x.weight", get("time_mix_ln.weight", {C}));
      put("ln_x.bias", get("time_mix_ln.bias", {C}));
    }
    put("o_proj.weight", get("time_mix_output.weight", {C, C}));
  }
}

}  // namespace radlads::student_gguf
