#include "model/gguf_tensors.h"

#include <cstring>
#include <map>
#include <optional>

#include "core/error.h"
#include "core/tensor.h"
#include "kernels/ref/ref_gguf_blocks.h"

namespace r1 {

namespace {

// Per-layer names: llama.cpp's suffix -> Hugging Face's.
const std::map<std::string, std::string>& layer_names() {
  static const std::map<std::string, std::string> m = {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_q.bias", "self_attn.q_proj.bias"},
      {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.bias", "self_attn.v_proj.bias"},
      {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  return m;
}

// The GGUF name for a Hugging Face name (the inverse of hf_name_of_gguf_tensor).
std::string gguf_name_of_hf_tensor(const std::string& hf) {
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  const std::string pre = "model.layers.";
  if (hf.rfind(pre, 0) == 0) {
    size_t dot = hf.find('.', pre.size());
    std::string layer = hf.substr(pre.size(), dot - pre.size()), rest = hf.substr(dot + 1);
    for (const auto& [g, h] : layer_names())
      if (h == rest) return "blk." + layer + "." + g;
  }
  R1_CHECK(false, "no GGUF name for {}", hf);
}

// Row r of Hugging Face's q/k layout from llama.cpp's: within each head of `head_dim` rows, HF row
// j·half + i (j = 0, 1: the rotate-half halves) is stored at row 2i + j (pairs interleaved).
size_t gguf_row_of_hf_row(size_t r, size_t head_dim) {
  const size_t half = head_dim / 2, head = r / head_dim, k = r % head_dim;
  return head * head_dim + 2 * (k % half) + k / half;
}

bool is_block_format(GgmlType t) {
  return t != GgmlType::F32 && t != GgmlType::F16 && t != GgmlType::BF16;
}

// The packed format the int8 kernels compute a matrix of type t in directly, if they have one.
std::optional<DType> kernel_block_format(GgmlType t) {
  switch (t) {
    case GgmlType::Q8_0:
      return DType::Q8_0;
    case GgmlType::Q4_0:
      return DType::Q4_0;
    case GgmlType::Q4_1:
      return DType::Q4_1;
    case GgmlType::Q5_0:
      return DType::Q5_0;
    case GgmlType::Q5_1:
      return DType::Q5_1;
    case GgmlType::Q4_K:
      return DType::Q4_K;
    case GgmlType::Q5_K:
      return DType::Q5_K;
    case GgmlType::Q6_K:
      return DType::Q6_K;
    default:
      return std::nullopt;
  }
}

DType float_dtype(GgmlType t) {
  return t == GgmlType::F16 ? DType::F16 : t == GgmlType::BF16 ? DType::BF16 : DType::F32;
}

}  // namespace

void dequantize_gguf(GgmlType t, const void* src, float* out, size_t n) {
  namespace ref = kernels::ref;
  const auto* p = static_cast<const uint8_t*>(src);
  switch (t) {
    case GgmlType::F32:
      std::memcpy(out, p, n * sizeof(float));
      return;
    case GgmlType::F16:
    case GgmlType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = t == GgmlType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
      return;
    case GgmlType::Q4_0:
      return ref::dequantize_q4_0(p, out, n);
    case GgmlType::Q4_1:
      return ref::dequantize_q4_1(p, out, n);
    case GgmlType::Q5_0:
      return ref::dequantize_q5_0(p, out, n);
    case GgmlType::Q5_1:
      return ref::dequantize_q5_1(p, out, n);
    case GgmlType::Q8_0:
      return ref::dequantize_q8_0(p, out, n);
    case GgmlType::Q4_K:
      return ref::dequantize_q4_k(p, out, n);
    case GgmlType::Q5_K:
      return ref::dequantize_q5_k(p, out, n);
    case GgmlType::Q6_K:
      return ref::dequantize_q6_k(p, out, n);
  }
  R1_CHECK(false, "dequantize type {}", uint32_t(t));
}

std::string hf_name_of_gguf_tensor(const std::string& g) {
  if (g == "token_embd.weight") return "model.embed_tokens.weight";
  if (g == "output_norm.weight") return "model.norm.weight";
  if (g == "output.weight") return "lm_head.weight";
  if (g.rfind("blk.", 0) != 0) return "";
  size_t dot = g.find('.', 4);
  if (dot == std::string::npos || dot == 4) return "";
  std::string layer = g.substr(4, dot - 4);
  for (char ch : layer)
    if (ch < '0' || ch > '9') return "";
  auto it = layer_names().find(g.substr(dot + 1));
  return it == layer_names().end() ? "" : "model.layers." + layer + "." + it->second;
}

void check_gguf_tensors(const GgufFile& f, const ModelConfig& c) {
  std::map<std::string, std::vector<size_t>> expected;  // GGUF name -> shape, outermost first
  for (const WeightSpec& s : weight_specs(c, WeightPrecision::F32))
    expected[gguf_name_of_hf_tensor(s.name)] =
        s.rows == 1 ? std::vector<size_t>{s.cols} : std::vector<size_t>{s.rows, s.cols};
  for (const GgufTensor& t : f.tensors()) {
    if (t.name == "rope_freqs.weight") continue;  // read into the config
    auto it = expected.find(t.name);
    if (it == expected.end())
      fail("{}: unexpected tensor \"{}\" for {} with {} layers", f.path(), t.name, c.architecture,
           c.n_layers);
    if (t.shape() != it->second)
      fail("{}: tensor \"{}\" has shape {}, but the metadata implies {}", f.path(), t.name,
           shape_str(t.shape()), shape_str(it->second));
  }
  for (const auto& [name, shape] : expected)
    if (!f.find(name)) fail("{}: missing tensor \"{}\"", f.path(), name);
}

TensorSourceFn gguf_tensor_source(const GgufFile& f, const ModelConfig& c) {
  const bool permuted = c.architecture == "LlamaForCausalLM";
  return [&f, permuted, head_dim = c.head_dim](const std::string& hf, const std::vector<size_t>& shape) {
    const GgufTensor* t = f.find(gguf_name_of_hf_tensor(hf));
    R1_CHECK(t && t->shape() == shape, "tensor {} unchecked", hf);
    const bool qk = hf.find("q_proj") != std::string::npos || hf.find("k_proj") != std::string::npos;
    const bool permute = permuted && qk;
    const uint8_t* data = f.data(*t);
    TensorSource s;
    if (!permute && !is_block_format(t->type)) {
      s.dtype = float_dtype(t->type);
      s.data = data;
      return s;
    }
    s.dtype = is_block_format(t->type) ? DType::Q8_0 : float_dtype(t->type);
    const size_t cols = t->ne[0];
    const size_t row_bytes = cols / ggml_block_elems(t->type) * ggml_block_bytes(t->type);
    const GgmlType type = t->type;
    if (auto own = kernel_block_format(type); shape.size() == 2 && own) {
      // The kernels' own block formats: their tiles take these blocks as they are.
      s.dtype = *own;
      s.blocks = [=](size_t r) { return data + (permute ? gguf_row_of_hf_row(r, head_dim) : r) * row_bytes; };
    }
    if (permute && shape.size() == 1) {
      // A q/k bias: one row whose elements follow the rows' order.
      s.row = [=](size_t, float* out) {
        std::vector<float> all(cols);
        dequantize_gguf(type, data, all.data(), cols);
        for (size_t i = 0; i < cols; ++i) out[i] = all[gguf_row_of_hf_row(i, head_dim)];
      };
      return s;
    }
    s.row = [=](size_t r, float* out) {
      const size_t src = permute ? gguf_row_of_hf_row(r, head_dim) : r;
      dequantize_gguf(type, data + src * row_bytes, out, cols);
    };
    return s;
  };
}

}  // namespace r1
