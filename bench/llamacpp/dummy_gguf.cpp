#include "dummy_gguf.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <numbers>

#include "core/dtype.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/ref/ref_kquant_quantize.h"
#include "kernels/ref/ref_quant.h"
#include "model/dummy_weights.h"

namespace r1::gguf {

namespace {

// GGUF metadata value types (gguf.h's enum gguf_type).
enum class ValueType : uint32_t { U8 = 0, I32 = 5, U32 = 4, F32 = 6, Bool = 7, String = 8, Array = 9 };

// llama.cpp's enum llama_ftype for general.file_type.
uint32_t llama_ftype(FileType t) {
  switch (t) {
    case FileType::Q8_0:
      return 7;  // LLAMA_FTYPE_MOSTLY_Q8_0
    case FileType::Q4_0:
      return 2;  // LLAMA_FTYPE_MOSTLY_Q4_0
    case FileType::F16:
      return 1;  // LLAMA_FTYPE_MOSTLY_F16
    case FileType::Q4_K_M:
      return 15;  // LLAMA_FTYPE_MOSTLY_Q4_K_M
    case FileType::Q5_K_M:
      return 17;  // LLAMA_FTYPE_MOSTLY_Q5_K_M
    case FileType::Q6_K:
      return 18;  // LLAMA_FTYPE_MOSTLY_Q6_K
  }
  return 0;
}

uint64_t tensor_bytes(GgmlType t, uint64_t n) {
  return n / ggml_block_elems(t) * ggml_block_bytes(t);
}

// The roles of a matrix that llama-quantize's type choice looks at.
enum class Role { Embedding, Output, AttnV, FfnDown, Other };

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third one between them.
bool use_more_bits(size_t layer, size_t n_layers) {
  const long i = long(layer), n = long(n_layers);
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

// The type of one matrix. For the k-quant mixes this is the rule of llama.cpp's llama_tensor_get_type
// (ggml-org/llama.cpp, src/llama-quant.cpp; the rules for these three file types have been stable since the
// k-quants landed), for a Qwen2/Llama dense model without imatrix or per-tensor overrides:
//  - the output matrix (or token_embd when the embeddings are tied and there is no output.weight): Q6_K
//    (Q8_0 stays Q8_0; a row not a multiple of 256 would get Q8_0 — refused here instead);
//  - token_embd otherwise: the file type's base type (no rule for Q4_K_M/Q5_K_M/Q6_K);
//  - attn_v and ffn_down: Q6_K for Q4_K_M and Q5_K_M where use_more_bits(layer, n_layers) holds (attn_v
//    counts its tensors in file order, ffn_down reads the layer from the name: the same index here), else
//    the base type;
//  - every other matrix (attn_q, attn_k, attn_output, ffn_gate, ffn_up): the base type — Q4_K for Q4_K_M,
//    Q5_K for Q5_K_M, Q6_K for Q6_K (attn_output's and attn_qkv's exceptions are for MoE/Falcon/fused qkv).
GgmlType matrix_type(FileType t, Role role, size_t layer, size_t n_layers) {
  switch (t) {
    case FileType::Q8_0:
      return GgmlType::Q8_0;
    case FileType::F16:
      return GgmlType::F16;
    case FileType::Q4_0:
      return role == Role::Embedding || role == Role::Output ? GgmlType::Q8_0 : GgmlType::Q4_0;
    case FileType::Q4_K_M:
    case FileType::Q5_K_M:
    case FileType::Q6_K:
      break;
  }
  const GgmlType base = t == FileType::Q4_K_M   ? GgmlType::Q4_K
                        : t == FileType::Q5_K_M ? GgmlType::Q5_K
                                                : GgmlType::Q6_K;
  if (role == Role::Output) return GgmlType::Q6_K;
  if ((role == Role::AttnV || role == Role::FfnDown) && t != FileType::Q6_K && use_more_bits(layer, n_layers))
    return GgmlType::Q6_K;
  return base;
}

uint64_t align_up(uint64_t x) {
  return (x + kAlignment - 1) / kAlignment * kAlignment;
}

// Little-endian serialisation of the header, metadata and tensor infos into memory (a few MB at most: the
// vocabulary is the largest part).
class Buf {
 public:
  std::string bytes;
  template <typename T>
  void pod(T v) {
    bytes.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str(const std::string& s) {
    pod<uint64_t>(s.size());
    bytes.append(s);
  }
};

class Metadata {
 public:
  Buf buf;
  size_t count = 0;
  void key(const std::string& k, ValueType t) {
    buf.str(k);
    buf.pod<uint32_t>(uint32_t(t));
    ++count;
  }
  void u32(const std::string& k, uint64_t v) {
    if (v > UINT32_MAX) fail("GGUF key {}: value {} does not fit in uint32", k, v);
    key(k, ValueType::U32);
    buf.pod<uint32_t>(uint32_t(v));
  }
  void f32(const std::string& k, double v) {
    key(k, ValueType::F32);
    buf.pod<float>(float(v));
  }
  void boolean(const std::string& k, bool v) {
    key(k, ValueType::Bool);
    buf.pod<uint8_t>(v ? 1 : 0);
  }
  void str(const std::string& k, const std::string& v) {
    key(k, ValueType::String);
    buf.str(v);
  }
  void str_array(const std::string& k, const std::vector<std::string>& v) {
    key(k, ValueType::Array);
    buf.pod<uint32_t>(uint32_t(ValueType::String));
    buf.pod<uint64_t>(v.size());
    for (const auto& s : v) buf.str(s);
  }
  void i32_array(const std::string& k, const std::vector<int32_t>& v) {
    key(k, ValueType::Array);
    buf.pod<uint32_t>(uint32_t(ValueType::I32));
    buf.pod<uint64_t>(v.size());
    for (int32_t x : v) buf.pod<int32_t>(x);
  }
};

void append_utf8(std::string& s, uint32_t cp) {
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
}

// A stand-in vocabulary of exactly `n` distinct tokens: ids 0-255 are the 256 byte tokens of GPT-2's
// byte-level BPE (so any text still tokenizes, byte by byte), the rest "<t256>", "<t257>", ... The benchmark
// feeds token ids, so only the count matters.
std::vector<std::string> stand_in_vocab(size_t n) {
  std::vector<std::string> v;
  v.reserve(n);
  uint32_t next_unprintable = 256;
  for (size_t b = 0; b < std::min<size_t>(n, 256); ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    std::string s;
    append_utf8(s, printable ? uint32_t(b) : next_unprintable++);
    v.push_back(std::move(s));
  }
  for (size_t i = v.size(); i < n; ++i) v.push_back("<t" + std::to_string(i) + ">");
  return v;
}

// The r1::dummy_weights values of the Hugging Face tensor behind `info` (the GGUF dims reversed are its
// shape).
TensorSource row_source(const TensorInfo& info, const ModelConfig& c, uint64_t seed) {
  std::vector<size_t> shape(info.ne.rbegin(), info.ne.rend());
  return dummy_tensor_source(c, info.source, shape, seed);
}

// Llama 3.1's rope_scaling as llama.cpp reads it: one factor per rotary frequency, stored as the tensor
// rope_freqs.weight (what llama.cpp's convert_hf_to_gguf.py computes; llama.cpp divides each frequency by
// it).
std::vector<float> llama3_rope_factors(const ModelConfig& c) {
  const RopeScaling& s = c.rope_scaling;
  const double low_wavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const double high_wavelen = s.original_max_position_embeddings / s.high_freq_factor;
  std::vector<float> f;
  for (size_t i = 0; i < c.head_dim; i += 2) {
    double freq = 1.0 / std::pow(c.rope_theta, double(i) / double(c.head_dim));
    double wavelen = 2 * std::numbers::pi / freq;
    if (wavelen < high_wavelen) {
      f.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      f.push_back(float(s.factor));
    } else {
      double smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) /
                      (s.high_freq_factor - s.low_freq_factor);
      f.push_back(float(1.0 / ((1 - smooth) / s.factor + smooth)));
    }
  }
  return f;
}

struct File {
  std::FILE* f = nullptr;
  std::string path;
  explicit File(const std::string& p) : path(p) {
    f = std::fopen(p.c_str(), "wb");
    if (!f) fail("{}: cannot open for writing: {}", p, std::strerror(errno));
    std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  }
  ~File() {
    if (f) std::fclose(f);
  }
  void write(const void* data, size_t n) {
    if (n && std::fwrite(data, 1, n, f) != n) fail("{}: write failed: {}", path, std::strerror(errno));
  }
  void pad_to(uint64_t pos, uint64_t target) {
    static const char zeros[kAlignment] = {};
    R1_CHECK(target >= pos && target - pos < kAlignment, "padding {} -> {}", pos, target);
    write(zeros, target - pos);
  }
  void close() {
    std::FILE* g = f;
    f = nullptr;
    if (std::fclose(g) != 0) fail("{}: close failed: {}", path, std::strerror(errno));
  }
};

}  // namespace

FileType parse_file_type(const std::string& s) {
  if (s == "q8_0") return FileType::Q8_0;
  if (s == "q4_0") return FileType::Q4_0;
  if (s == "f16") return FileType::F16;
  if (s == "q4_k_m") return FileType::Q4_K_M;
  if (s == "q5_k_m") return FileType::Q5_K_M;
  if (s == "q6_k") return FileType::Q6_K;
  fail("unknown GGUF type \"{}\" (expected q8_0, q4_0, f16, q4_k_m, q5_k_m or q6_k)", s);
}

std::string file_type_name(FileType t) {
  switch (t) {
    case FileType::Q8_0:
      return "q8_0";
    case FileType::Q4_0:
      return "q4_0";
    case FileType::F16:
      return "f16";
    case FileType::Q4_K_M:
      return "q4_k_m";
    case FileType::Q5_K_M:
      return "q5_k_m";
    case FileType::Q6_K:
      return "q6_k";
  }
  return "?";
}

std::string gguf_architecture(const ModelConfig& c) {
  if (c.architecture == "Qwen2ForCausalLM") return "qwen2";
  if (c.architecture == "LlamaForCausalLM") return "llama";
  fail("no GGUF architecture for {}", c.architecture);
}

std::vector<TensorInfo> plan_tensors(const ModelConfig& c, FileType t) {
  const uint64_t h = c.hidden_size, ffn = c.intermediate_size, vocab = c.vocab_size;
  std::vector<TensorInfo> out;
  auto vec = [&](std::string name, std::string src, uint64_t n) {
    out.push_back({std::move(name), std::move(src), {n}, GgmlType::F32});
  };
  auto mat = [&](std::string name, std::string src, uint64_t rows, uint64_t cols, Role role,
                 size_t layer = 0) {
    const GgmlType type = matrix_type(t, role, layer, c.n_layers);
    if (cols % ggml_block_elems(type) != 0)
      fail("{} ({}): {} columns are not a multiple of {}, which {} needs", name, src, cols,
           ggml_block_elems(type), ggml_type_name(type));
    out.push_back({std::move(name), std::move(src), {cols, rows}, type});
  };
  if (gguf_architecture(c) == "llama" && c.rope_scaling.kind == RopeScaling::Kind::Llama3)
    vec("rope_freqs.weight", "", c.head_dim / 2);
  // Tied embeddings: token_embd is also the output matrix, and llama-quantize types it as one.
  mat("token_embd.weight", "model.embed_tokens.weight", vocab, h,
      c.tie_word_embeddings ? Role::Output : Role::Embedding);
  for (size_t i = 0; i < c.n_layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".", p = "model.layers." + std::to_string(i) + ".";
    vec(b + "attn_norm.weight", p + "input_layernorm.weight", h);
    mat(b + "attn_q.weight", p + "self_attn.q_proj.weight", c.q_dim(), h, Role::Other);
    mat(b + "attn_k.weight", p + "self_attn.k_proj.weight", c.kv_dim(), h, Role::Other);
    mat(b + "attn_v.weight", p + "self_attn.v_proj.weight", c.kv_dim(), h, Role::AttnV, i);
    if (c.qkv_bias) {
      vec(b + "attn_q.bias", p + "self_attn.q_proj.bias", c.q_dim());
      vec(b + "attn_k.bias", p + "self_attn.k_proj.bias", c.kv_dim());
      vec(b + "attn_v.bias", p + "self_attn.v_proj.bias", c.kv_dim());
    }
    mat(b + "attn_output.weight", p + "self_attn.o_proj.weight", h, c.q_dim(), Role::Other);
    vec(b + "ffn_norm.weight", p + "post_attention_layernorm.weight", h);
    mat(b + "ffn_gate.weight", p + "mlp.gate_proj.weight", ffn, h, Role::Other);
    mat(b + "ffn_up.weight", p + "mlp.up_proj.weight", ffn, h, Role::Other);
    mat(b + "ffn_down.weight", p + "mlp.down_proj.weight", h, ffn, Role::FfnDown, i);
  }
  vec("output_norm.weight", "model.norm.weight", h);
  if (!c.tie_word_embeddings) mat("output.weight", "lm_head.weight", vocab, h, Role::Output);

  uint64_t offset = 0;
  for (auto& ti : out) {
    uint64_t n = 1;
    for (uint64_t d : ti.ne) n *= d;
    ti.offset = offset;
    ti.bytes = tensor_bytes(ti.type, n);
    offset = align_up(offset + ti.bytes);
  }
  return out;
}

WriteSummary write_dummy_gguf(const ModelConfig& c, const std::string& path, const WriteOptions& opt) {
  const std::string arch = gguf_architecture(c);
  const std::vector<TensorInfo> tensors = plan_tensors(c, opt.type);

  Metadata md;
  md.str("general.architecture", arch);
  md.str("general.name", opt.name.empty() ? "r1serve dummy " + arch : opt.name);
  md.u32("general.file_type", llama_ftype(opt.type));
  md.u32("general.quantization_version", 2);
  md.u32("general.alignment", kAlignment);
  md.u32(arch + ".vocab_size", c.vocab_size);
  md.u32(arch + ".context_length", c.max_position_embeddings);
  md.u32(arch + ".embedding_length", c.hidden_size);
  md.u32(arch + ".block_count", c.n_layers);
  md.u32(arch + ".feed_forward_length", c.intermediate_size);
  md.u32(arch + ".attention.head_count", c.n_heads);
  md.u32(arch + ".attention.head_count_kv", c.n_kv_heads);
  md.u32(arch + ".attention.key_length", c.head_dim);
  md.u32(arch + ".attention.value_length", c.head_dim);
  md.u32(arch + ".rope.dimension_count", c.head_dim);
  md.f32(arch + ".rope.freq_base", c.rope_theta);
  md.f32(arch + ".attention.layer_norm_rms_epsilon", c.rms_norm_eps);
  if (c.rope_scaling.kind == RopeScaling::Kind::Linear) {
    md.str(arch + ".rope.scaling.type", "linear");
    md.f32(arch + ".rope.scaling.factor", c.rope_scaling.factor);
  }
  // Llama 3 scaling travels as the rope_freqs.weight tensor (plan_tensors); Qwen2 configs have none.
  md.str("tokenizer.ggml.model", "gpt2");
  md.str("tokenizer.ggml.pre", arch == "qwen2" ? "qwen2" : "llama-bpe");
  const std::vector<std::string> vocab = stand_in_vocab(c.vocab_size);
  std::vector<int32_t> token_type(c.vocab_size, 1);  // 1: normal; 3: control (BOS/EOS)
  if (c.bos_token_id && size_t(*c.bos_token_id) < c.vocab_size) token_type[size_t(*c.bos_token_id)] = 3;
  for (int e : c.eos_token_ids)
    if (e >= 0 && size_t(e) < c.vocab_size) token_type[size_t(e)] = 3;
  md.str_array("tokenizer.ggml.tokens", vocab);
  md.i32_array("tokenizer.ggml.token_type", token_type);
  md.str_array("tokenizer.ggml.merges", {});  // no merges: text tokenizes byte by byte
  if (c.bos_token_id) md.u32("tokenizer.ggml.bos_token_id", uint64_t(*c.bos_token_id));
  if (!c.eos_token_ids.empty()) md.u32("tokenizer.ggml.eos_token_id", uint64_t(c.eos_token_ids.front()));
  md.boolean("tokenizer.ggml.add_bos_token", arch == "llama");

  Buf head;
  head.bytes.append("GGUF", 4);
  head.pod<uint32_t>(3);
  head.pod<uint64_t>(tensors.size());
  head.pod<uint64_t>(md.count);
  head.bytes += md.buf.bytes;
  for (const auto& ti : tensors) {
    head.str(ti.name);
    head.pod<uint32_t>(uint32_t(ti.ne.size()));
    for (uint64_t d : ti.ne) head.pod<uint64_t>(d);
    head.pod<uint32_t>(uint32_t(ti.type));
    head.pod<uint64_t>(ti.offset);
  }
  const uint64_t data_offset = align_up(head.bytes.size());

  File f(path);
  f.write(head.bytes.data(), head.bytes.size());
  f.pad_to(head.bytes.size(), data_offset);

  ThreadPool pool(opt.threads);
  std::vector<char> chunk;
  uint64_t pos = 0;  // within the data section
  for (const auto& ti : tensors) {
    R1_CHECK(pos == ti.offset, "{}: at {} but planned at {}", ti.name, pos, ti.offset);
    if (ti.name == "rope_freqs.weight") {
      std::vector<float> fr = llama3_rope_factors(c);
      f.write(fr.data(), fr.size() * sizeof(float));
    } else {
      const TensorSource src = row_source(ti, c, opt.seed);
      const size_t cols = ti.ne[0], rows = ti.ne.size() == 2 ? ti.ne[1] : 1;
      const size_t row_bytes = tensor_bytes(ti.type, cols);
      // Rows in chunks of about 8 MB, generated and converted on all threads, written in order.
      const size_t chunk_rows = std::max<size_t>(1, (size_t(8) << 20) / row_bytes);
      chunk.resize(std::min(rows, chunk_rows) * row_bytes);
      for (size_t r0 = 0; r0 < rows; r0 += chunk_rows) {
        const size_t n = std::min(chunk_rows, rows - r0);
        pool.parallel_for(n, [&](size_t begin, size_t end) {
          std::vector<float> x(cols);
          for (size_t r = begin; r < end; ++r) {
            src.row(r0 + r, x.data());
            char* dst = chunk.data() + r * row_bytes;
            switch (ti.type) {
              case GgmlType::F32:
                std::memcpy(dst, x.data(), row_bytes);
                break;
              case GgmlType::F16: {
                auto* h = reinterpret_cast<uint16_t*>(dst);
                for (size_t i = 0; i < cols; ++i) h[i] = f32_to_f16(x[i]);
                break;
              }
              case GgmlType::Q8_0:
                kernels::ref::quantize_q8_0(x.data(), cols / 32,
                                            reinterpret_cast<kernels::ref::BlockQ8_0*>(dst));
                break;
              case GgmlType::Q4_0:
                kernels::ref::quantize_q4_0(x.data(), cols / 32,
                                            reinterpret_cast<kernels::ref::BlockQ4_0*>(dst));
                break;
              case GgmlType::Q4_K:
                kernels::ref::quantize_q4_k(x.data(), dst, cols);
                break;
              case GgmlType::Q5_K:
                kernels::ref::quantize_q5_k(x.data(), dst, cols);
                break;
              case GgmlType::Q6_K:
                kernels::ref::quantize_q6_k(x.data(), dst, cols);
                break;
            }
          }
        });
        f.write(chunk.data(), n * row_bytes);
      }
    }
    f.pad_to(pos + ti.bytes, align_up(pos + ti.bytes));
    pos = align_up(pos + ti.bytes);
  }
  f.close();

  WriteSummary s;
  s.n_tensors = tensors.size();
  s.n_kv = md.count;
  s.data_offset = data_offset;
  // The last tensor is padded too, so the file ends on an alignment boundary.
  s.file_bytes = data_offset + pos;
  return s;
}

}  // namespace r1::gguf
