#include "model/weights.h"

#include <cstring>
#include <map>
#include <set>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/quant.h"
#include "model/gguf_tensors.h"
#include "model/packed_weights.h"

namespace r1 {

WeightPrecision parse_weight_precision(const std::string& s) {
  if (s == "auto") return WeightPrecision::Auto;
  if (s == "f32" || s == "float32") return WeightPrecision::F32;
  if (s == "bf16" || s == "bfloat16") return WeightPrecision::BF16;
  if (s == "q8" || s == "q8_0") return WeightPrecision::Q8;
  if (s == "q4" || s == "q4_0") return WeightPrecision::Q4;
  fail("unsupported --dtype \"{}\" (supported: auto, f32, bf16, q8, q4)", s);
}

std::string weight_precision_name(WeightPrecision p) {
  switch (p) {
    case WeightPrecision::Auto:
      return "auto";
    case WeightPrecision::F32:
      return "f32";
    case WeightPrecision::BF16:
      return "bf16";
    case WeightPrecision::Q8:
      return "q8";
    case WeightPrecision::Q4:
      return "q4";
  }
  return "?";
}

size_t matrix_bytes(const kernels::WeightMatrix& m) {
  if (kernels::is_quantized(m.dtype)) return kernels::packed_bytes(m.dtype, m.rows, m.cols);
  return dtype_bytes(m.dtype, m.rows * m.cols);
}

namespace {

enum class Kind { Vector, Matrix, EmbedOrHead };

struct Expected {
  std::string name;
  std::vector<size_t> shape;
  Kind kind;
};

// The tensor names and shapes Hugging Face's Qwen2/Llama modeling code uses.
std::vector<Expected> expected_tensors(const ModelConfig& c) {
  std::vector<Expected> out;
  const size_t h = c.hidden_size;
  out.push_back({"model.embed_tokens.weight", {c.vocab_size, h}, Kind::EmbedOrHead});
  for (size_t i = 0; i < c.n_layers; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    out.push_back({p + "input_layernorm.weight", {h}, Kind::Vector});
    out.push_back({p + "self_attn.q_proj.weight", {c.q_dim(), h}, Kind::Matrix});
    out.push_back({p + "self_attn.k_proj.weight", {c.kv_dim(), h}, Kind::Matrix});
    out.push_back({p + "self_attn.v_proj.weight", {c.kv_dim(), h}, Kind::Matrix});
    out.push_back({p + "self_attn.o_proj.weight", {h, c.q_dim()}, Kind::Matrix});
    if (c.qkv_bias) {
      out.push_back({p + "self_attn.q_proj.bias", {c.q_dim()}, Kind::Vector});
      out.push_back({p + "self_attn.k_proj.bias", {c.kv_dim()}, Kind::Vector});
      out.push_back({p + "self_attn.v_proj.bias", {c.kv_dim()}, Kind::Vector});
    }
    out.push_back({p + "post_attention_layernorm.weight", {h}, Kind::Vector});
    out.push_back({p + "mlp.gate_proj.weight", {c.intermediate_size, h}, Kind::Matrix});
    out.push_back({p + "mlp.up_proj.weight", {c.intermediate_size, h}, Kind::Matrix});
    out.push_back({p + "mlp.down_proj.weight", {h, c.intermediate_size}, Kind::Matrix});
  }
  out.push_back({"model.norm.weight", {h}, Kind::Vector});
  if (!c.tie_word_embeddings) out.push_back({"lm_head.weight", {c.vocab_size, h}, Kind::EmbedOrHead});
  return out;
}

// Tensors some exporters add that carry nothing the forward pass needs.
bool ignorable(const std::string& name, const ModelConfig& c) {
  if (name.find("rotary_emb.inv_freq") != std::string::npos) return true;
  return c.tie_word_embeddings && name == "lm_head.weight";
}

DType target_dtype(DType stored, Kind kind, WeightPrecision p) {
  if (kind == Kind::Vector) return DType::F32;
  switch (p) {
    case WeightPrecision::F32:
      return DType::F32;
    case WeightPrecision::BF16:
      return DType::BF16;
    case WeightPrecision::Q8:
      return DType::Q8_0;
    case WeightPrecision::Q4:
      return kind == Kind::EmbedOrHead ? DType::Q8_0 : DType::Q4_0;
    case WeightPrecision::Auto:
      return stored;
  }
  return stored;
}

// Row r of a source as floats: out [cols].
void source_row(const TensorSource& s, size_t r, size_t cols, float* out) {
  if (!s.data) {
    s.row(r, out);
    return;
  }
  const size_t base = r * cols;
  switch (s.dtype) {
    case DType::F32:
      std::memcpy(out, static_cast<const uint8_t*>(s.data) + base * 4, cols * sizeof(float));
      break;
    case DType::BF16: {
      // Tensors in a safetensors file may sit at odd offsets: read 16-bit values with memcpy, not a cast.
      const auto* p = static_cast<const uint8_t*>(s.data) + base * 2;
      for (size_t i = 0; i < cols; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = bf16_to_f32(h);
      }
      break;
    }
    default: {
      const auto* p = static_cast<const uint8_t*>(s.data) + base * 2;
      for (size_t i = 0; i < cols; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = f16_to_f32(h);
      }
    }
  }
}

// Fills `dst` ([rows, cols] in format `to`) from the source; rows (or 16-row groups) split across the pool.
void convert(ThreadPool& pool, const TensorSource& s, size_t rows, size_t cols, DType to, void* dst) {
  if (s.data && s.dtype == to) {
    std::memcpy(dst, s.data, dtype_bytes(to, rows * cols));
    return;
  }
  if (kernels::is_quantized(to) && s.blocks && s.dtype == to) {
    // Stored in the tiles' own block format: moved, not decoded and quantized again.
    const size_t groups = (rows + kernels::kQRowTile - 1) / kernels::kQRowTile;
    pool.parallel_for(groups, [&](size_t g0, size_t g1) {
      const uint8_t* ptrs[kernels::kQRowTile];
      for (size_t g = g0; g < g1; ++g) {
        const size_t r0 = g * kernels::kQRowTile, nr = std::min(kernels::kQRowTile, rows - r0);
        for (size_t i = 0; i < nr; ++i) ptrs[i] = s.blocks(r0 + i);
        kernels::pack_gguf_row_group(to, cols, g, ptrs, nr, dst);
      }
    });
    return;
  }
  if (kernels::is_quantized(to)) {
    const size_t groups = (rows + kernels::kQRowTile - 1) / kernels::kQRowTile;
    pool.parallel_for(groups, [&](size_t g0, size_t g1) {
      std::vector<float> buf(kernels::kQRowTile * cols);  // [16, cols]
      for (size_t g = g0; g < g1; ++g) {
        const size_t r0 = g * kernels::kQRowTile, nr = std::min(kernels::kQRowTile, rows - r0);
        for (size_t i = 0; i < nr; ++i) source_row(s, r0 + i, cols, buf.data() + i * cols);
        kernels::pack_row_group(to, cols, g, buf.data(), nr, dst);
      }
    });
    return;
  }
  pool.parallel_for(rows, [&](size_t r0, size_t r1) {
    std::vector<float> buf(cols);  // [cols]
    for (size_t r = r0; r < r1; ++r) {
      source_row(s, r, cols, buf.data());
      if (to == DType::F32) {
        std::memcpy(static_cast<float*>(dst) + r * cols, buf.data(), cols * sizeof(float));
      } else if (to == DType::BF16) {
        uint16_t* d = static_cast<uint16_t*>(dst) + r * cols;
        for (size_t i = 0; i < cols; ++i) d[i] = f32_to_bf16(buf[i]);
      } else if (to == DType::F16) {
        uint16_t* d = static_cast<uint16_t*>(dst) + r * cols;
        for (size_t i = 0; i < cols; ++i) d[i] = f32_to_f16(buf[i]);
      } else {
        R1_CHECK(false, "convert to {}", dtype_name(to));
      }
    }
  });
}

}  // namespace

std::vector<WeightSpec> weight_specs(const ModelConfig& c, WeightPrecision p) {
  R1_CHECK(p != WeightPrecision::Auto, "weight_specs needs a precision");
  std::vector<WeightSpec> out;
  for (const auto& e : expected_tensors(c))
    out.push_back(
        {e.name, e.shape.size() == 2 ? e.shape[0] : 1, e.shape.back(), target_dtype(DType::F32, e.kind, p)});
  return out;
}

namespace {
// The package's tensors after every check load() makes: by name, each with a float dtype and the shape
// config.json implies, and nothing unexpected beside them.
std::map<std::string, TensorView> checked_views(const ModelPackage& pkg) {
  const ModelConfig& c = pkg.config();
  const auto& tensors = pkg.tensors();
  std::vector<Expected> expected = expected_tensors(c);
  std::set<std::string> wanted;
  for (const auto& e : expected) wanted.insert(e.name);
  for (const auto& [name, loc] : tensors)
    if (!wanted.count(name) && !ignorable(name, c))
      fail("{}: unexpected tensor \"{}\" for {} with {} layers", loc.file->path(), name, c.architecture,
           c.n_layers);
  // Every tensor is checked before any is converted, so a bad file fails fast.
  std::map<std::string, TensorView> views;
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
    views[e.name] = v;
  }
  return views;
}
}  // namespace

void Weights::check(const ModelPackage& pkg) {
  if (!pkg.packed_path().empty()) {
    check_packed_weights(pkg.packed_path(), pkg.config());
    return;
  }
  if (pkg.gguf()) return check_gguf_tensors(*pkg.gguf(), pkg.config());
  checked_views(pkg);
}

Weights Weights::load(const ModelPackage& pkg, WeightPrecision precision) {
  if (!pkg.packed_path().empty()) return load_packed_weights(pkg.packed_path(), pkg.config(), precision);
  // Every weight is copied out of the files (converted, or moved into the kernels' tiles), so the files'
  // pages are let go afterwards: left mapped, they kept the process's resident memory at twice the weights (a
  // 1.13 GB Q4_K_M model ran at 2.30 GB RSS).
  if (pkg.gguf()) {
    check_gguf_tensors(*pkg.gguf(), pkg.config());
    Weights w = build(pkg.config(), precision, gguf_tensor_source(*pkg.gguf(), pkg.config()));
    pkg.drop_resident_pages();
    return w;
  }
  std::map<std::string, TensorView> views = checked_views(pkg);
  Weights w = build(pkg.config(), precision, [&](const std::string& name, const std::vector<size_t>&) {
    const TensorView& v = views.at(name);
    TensorSource s;
    s.dtype = v.dtype;
    s.data = v.data;
    return s;
  });
  pkg.drop_resident_pages();
  return w;
}

Weights Weights::build(const ModelConfig& c, WeightPrecision precision, const TensorSourceFn& source) {
  Weights w;
  ThreadPool pool(0);  // loading is a one-off: use every core to convert and quantize
  for (const auto& e : expected_tensors(c)) {
    TensorSource s = source(e.name, e.shape);
    const size_t cols = e.shape.back(), rows = e.shape.size() == 2 ? e.shape[0] : 1;
    DType to = target_dtype(s.dtype, e.kind, precision);
    AlignedBuffer buf(kernels::is_quantized(to) ? kernels::packed_bytes(to, rows, cols)
                                                : dtype_bytes(to, rows * cols));
    convert(pool, s, rows, cols, to, buf.data());
    w.placed_.push_back({WeightSpec{e.name, rows, cols, to}, buf.data(), buf.size()});
    w.buffers_.push_back(std::move(buf));
  }
  w.link(c);
  return w;
}

Weights Weights::assemble(const ModelConfig& c, AlignedBuffer storage, std::vector<Placed> placed) {
  Weights w;
  w.buffers_.push_back(std::move(storage));
  w.placed_ = std::move(placed);
  w.link(c);
  return w;
}

Weights Weights::assemble(const ModelConfig& c, MappedFile storage, std::vector<Placed> placed) {
  Weights w;
  w.mappings_.push_back(std::move(storage));
  w.placed_ = std::move(placed);
  w.link(c);
  return w;
}

void Weights::link(const ModelConfig& c) {
  std::map<std::string, const Placed*> by_name;
  for (const auto& p : placed_) by_name[p.spec.name] = &p;
  auto find = [&](const std::string& name) -> const Placed& {
    auto it = by_name.find(name);
    R1_CHECK(it != by_name.end(), "weights lack {}", name);
    return *it->second;
  };
  auto matrix = [&](const std::string& name, size_t rows, size_t cols) {
    const Placed& p = find(name);
    return kernels::WeightMatrix{p.spec.dtype, rows, cols, p.data};
  };
  auto vec = [&](const std::string& name) { return static_cast<const float*>(find(name).data); };
  const size_t h = c.hidden_size;
  embed = matrix("model.embed_tokens.weight", c.vocab_size, h);
  final_norm = vec("model.norm.weight");
  lm_head = c.tie_word_embeddings ? embed : matrix("lm_head.weight", c.vocab_size, h);
  layers.clear();
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
    layers.push_back(l);
  }
}

size_t Weights::bytes() const {
  size_t n = 0;
  for (const auto& b : buffers_) n += b.size();
  for (const auto& m : mappings_) n += m.size();  // the whole file is resident: header and table too
  return n;
}

size_t Weights::streamed_bytes_per_token() const {
  size_t n = matrix_bytes(lm_head);
  for (const auto& l : layers)
    for (const auto* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) n += matrix_bytes(*m);
  return n;
}

}  // namespace r1
