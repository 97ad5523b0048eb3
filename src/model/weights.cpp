#include "model/weights.h"

#include <cstring>
#include <set>

#include "core/error.h"

namespace r1 {

WeightPrecision parse_weight_precision(const std::string& s) {
  if (s == "auto") return WeightPrecision::Auto;
  if (s == "f32" || s == "float32") return WeightPrecision::F32;
  if (s == "bf16" || s == "bfloat16") return WeightPrecision::BF16;
  fail("unsupported --dtype \"{}\" (supported: auto, f32, bf16)", s);
}

std::string weight_precision_name(WeightPrecision p) {
  switch (p) {
    case WeightPrecision::Auto: return "auto";
    case WeightPrecision::F32: return "f32";
    case WeightPrecision::BF16: return "bf16";
  }
  return "?";
}

namespace {

struct Expected {
  std::string name;
  std::vector<size_t> shape;
  bool is_matrix;
};

// The tensor names and shapes Hugging Face's Qwen2/Llama modeling code uses.
std::vector<Expected> expected_tensors(const ModelConfig& c) {
  std::vector<Expected> out;
  const size_t h = c.hidden_size;
  out.push_back({"model.embed_tokens.weight", {c.vocab_size, h}, true});
  for (size_t i = 0; i < c.n_layers; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    out.push_back({p + "input_layernorm.weight", {h}, false});
    out.push_back({p + "self_attn.q_proj.weight", {c.q_dim(), h}, true});
    out.push_back({p + "self_attn.k_proj.weight", {c.kv_dim(), h}, true});
    out.push_back({p + "self_attn.v_proj.weight", {c.kv_dim(), h}, true});
    out.push_back({p + "self_attn.o_proj.weight", {h, c.q_dim()}, true});
    if (c.qkv_bias) {
      out.push_back({p + "self_attn.q_proj.bias", {c.q_dim()}, false});
      out.push_back({p + "self_attn.k_proj.bias", {c.kv_dim()}, false});
      out.push_back({p + "self_attn.v_proj.bias", {c.kv_dim()}, false});
    }
    out.push_back({p + "post_attention_layernorm.weight", {h}, false});
    out.push_back({p + "mlp.gate_proj.weight", {c.intermediate_size, h}, true});
    out.push_back({p + "mlp.up_proj.weight", {c.intermediate_size, h}, true});
    out.push_back({p + "mlp.down_proj.weight", {h, c.intermediate_size}, true});
  }
  out.push_back({"model.norm.weight", {h}, false});
  if (!c.tie_word_embeddings) out.push_back({"lm_head.weight", {c.vocab_size, h}, true});
  return out;
}

// Tensors some exporters add that carry nothing the forward pass needs.
bool ignorable(const std::string& name, const ModelConfig& c) {
  if (name.find("rotary_emb.inv_freq") != std::string::npos) return true;
  return c.tie_word_embeddings && name == "lm_head.weight";
}

DType target_dtype(DType stored, bool is_matrix, WeightPrecision p) {
  if (!is_matrix || p == WeightPrecision::F32) return DType::F32;
  if (p == WeightPrecision::BF16) return DType::BF16;
  return stored;
}

void convert(const TensorView& src, DType to, void* dst) {
  size_t n = src.numel();
  if (src.dtype == to) {
    std::memcpy(dst, src.data, src.nbytes());
    return;
  }
  const auto* s16 = static_cast<const uint16_t*>(src.data);
  const auto* s32 = static_cast<const float*>(src.data);
  auto get = [&](size_t i) -> float {
    switch (src.dtype) {
      case DType::F32: return s32[i];
      case DType::BF16: return bf16_to_f32(s16[i]);
      default: return f16_to_f32(s16[i]);
    }
  };
  if (to == DType::F32) {
    float* d = static_cast<float*>(dst);
    for (size_t i = 0; i < n; ++i) d[i] = get(i);
  } else if (to == DType::BF16) {
    uint16_t* d = static_cast<uint16_t*>(dst);
    for (size_t i = 0; i < n; ++i) d[i] = f32_to_bf16(get(i));
  } else {
    R1_CHECK(false, "convert to {}", dtype_name(to));
  }
}

}  // namespace

Weights Weights::load(const ModelPackage& pkg, WeightPrecision precision) {
  const ModelConfig& c = pkg.config();
  const auto& tensors = pkg.tensors();
  std::vector<Expected> expected = expected_tensors(c);
  std::set<std::string> wanted;
  for (const auto& e : expected) wanted.insert(e.name);
  for (const auto& [name, loc] : tensors)
    if (!wanted.count(name) && !ignorable(name, c))
      fail("{}: unexpected tensor \"{}\" for {} with {} layers", loc.file->path(), name, c.architecture,
           c.n_layers);

  Weights w;
  std::map<std::string, std::pair<const void*, DType>> placed;
  for (const auto& e : expected) {
    auto it = tensors.find(e.name);
    if (it == tensors.end()) fail("{}: missing tensor \"{}\"", pkg.dir(), e.name);
    const auto& loc = it->second;
    TensorView v = loc.file->view(*loc.entry);
    if (v.dtype != DType::F32 && v.dtype != DType::BF16 && v.dtype != DType::F16)
      fail("{}: tensor \"{}\" has dtype {}; weights must be F32, BF16 or F16", loc.file->path(), e.name,
           dtype_name(v.dtype));
    if (v.shape != e.shape)
      fail("{}: tensor \"{}\" has shape {}, expected {} from config.json", loc.file->path(), e.name,
           shape_str(v.shape), shape_str(e.shape));
    DType to = target_dtype(v.dtype, e.is_matrix, precision);
    AlignedBuffer buf(dtype_bytes(to, v.numel()));
    convert(v, to, buf.data());
    placed[e.name] = {buf.data(), to};
    w.buffers_.push_back(std::move(buf));
  }

  auto matrix = [&](const std::string& name, size_t rows, size_t cols) {
    auto [p, dt] = placed.at(name);
    return kernels::WeightMatrix{dt, rows, cols, p};
  };
  auto vec = [&](const std::string& name) { return static_cast<const float*>(placed.at(name).first); };
  const size_t h = c.hidden_size;
  w.embed = matrix("model.embed_tokens.weight", c.vocab_size, h);
  w.final_norm = vec("model.norm.weight");
  w.lm_head = c.tie_word_embeddings ? w.embed : matrix("lm_head.weight", c.vocab_size, h);
  for (size_t i = 0; i < c.n_layers; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    LayerWeights l;
    l.attn_norm = vec(p + "input_layernorm.weight");
    l.wq = matrix(p + "self_attn.q_proj.weight", c.q_dim(), h);
    l.wk = matrix(p + "self_attn.k_proj.weight", c.kv_dim(), h);
    l.wv = matrix(p + "self_attn.v_proj.weight", c.kv_dim(), h);
    l.wo = matrix(p + "self_attn.o_proj.weight", h, c.q_dim());
    if (c.qkv_bias) {
      l.bq = vec(p + "self_attn.q_proj.bias");
      l.bk = vec(p + "self_attn.k_proj.bias");
      l.bv = vec(p + "self_attn.v_proj.bias");
    }
    l.ffn_norm = vec(p + "post_attention_layernorm.weight");
    l.w_gate = matrix(p + "mlp.gate_proj.weight", c.intermediate_size, h);
    l.w_up = matrix(p + "mlp.up_proj.weight", c.intermediate_size, h);
    l.w_down = matrix(p + "mlp.down_proj.weight", h, c.intermediate_size);
    w.layers.push_back(l);
  }
  return w;
}

size_t Weights::bytes() const {
  size_t n = 0;
  for (const auto& b : buffers_) n += b.size();
  return n;
}

}  // namespace r1
