// bench/llamacpp's GGUF writer, read back by a small GGUF reader written here from the spec (not the writer's
// code): header, every metadata key, tensor infos (names, dims, types, aligned offsets), and the data of
// token_embd, which must be r1serve's own dummy weights quantized by the reference quantizer. The k-quant
// mixes (q4_k_m, q5_k_m, q6_k) must type each matrix as llama-quantize does; kquant_gguf_e2e_test.cpp then
// serves such a file.
#include "dummy_gguf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <variant>

#include "core/error.h"
#include "kernels/ref/ref_gguf_blocks.h"
#include "kernels/ref/ref_kquant_quantize.h"
#include "kernels/ref/ref_quant.h"
#include "model/dummy_weights.h"
#include "support/test_support.h"

namespace r1 {
namespace {

struct Value {
  uint32_t type = 0;  // gguf_type
  std::variant<uint64_t, int64_t, double, bool, std::string> scalar;
  uint32_t array_type = 0;
  std::vector<Value> array;
};

struct TensorEntry {
  std::string name;
  std::vector<uint64_t> ne;
  uint32_t type = 0;
  uint64_t offset = 0;
};

struct GgufFile {
  uint32_t version = 0;
  std::map<std::string, Value> kv;
  std::vector<TensorEntry> tensors;
  uint64_t data_offset = 0;
  std::string bytes;  // the whole file
};

class Reader {
 public:
  explicit Reader(const std::string& b) : b_(b) {}
  template <typename T>
  T pod() {
    if (pos_ + sizeof(T) > b_.size()) throw std::runtime_error("truncated at " + std::to_string(pos_));
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string str() {
    uint64_t n = pod<uint64_t>();
    if (pos_ + n > b_.size()) throw std::runtime_error("string past the end");
    std::string s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  Value value(uint32_t type) {
    Value v;
    v.type = type;
    switch (type) {
      case 0:
        v.scalar = uint64_t(pod<uint8_t>());
        break;
      case 1:
        v.scalar = int64_t(pod<int8_t>());
        break;
      case 2:
        v.scalar = uint64_t(pod<uint16_t>());
        break;
      case 3:
        v.scalar = int64_t(pod<int16_t>());
        break;
      case 4:
        v.scalar = uint64_t(pod<uint32_t>());
        break;
      case 5:
        v.scalar = int64_t(pod<int32_t>());
        break;
      case 6:
        v.scalar = double(pod<float>());
        break;
      case 7:
        v.scalar = pod<uint8_t>() != 0;
        break;
      case 8:
        v.scalar = str();
        break;
      case 9: {
        v.array_type = pod<uint32_t>();
        uint64_t n = pod<uint64_t>();
        for (uint64_t i = 0; i < n; ++i) v.array.push_back(value(v.array_type));
        break;
      }
      case 10:
        v.scalar = pod<uint64_t>();
        break;
      case 11:
        v.scalar = pod<int64_t>();
        break;
      case 12:
        v.scalar = pod<double>();
        break;
      default:
        throw std::runtime_error("unknown value type " + std::to_string(type));
    }
    return v;
  }
  size_t pos() const { return pos_; }

 private:
  const std::string& b_;
  size_t pos_ = 0;
};

GgufFile read_gguf(const std::string& path) {
  GgufFile f;
  f.bytes = test::read_file(path);
  Reader r(f.bytes);
  EXPECT_EQ(f.bytes.substr(0, 4), "GGUF");
  r.pod<uint32_t>();
  f.version = r.pod<uint32_t>();
  const uint64_t n_tensors = r.pod<uint64_t>(), n_kv = r.pod<uint64_t>();
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = r.str();
    uint32_t type = r.pod<uint32_t>();
    EXPECT_FALSE(f.kv.count(key)) << "duplicate key " << key;
    f.kv[key] = r.value(type);
  }
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorEntry t;
    t.name = r.str();
    uint32_t n_dims = r.pod<uint32_t>();
    for (uint32_t d = 0; d < n_dims; ++d) t.ne.push_back(r.pod<uint64_t>());
    t.type = r.pod<uint32_t>();
    t.offset = r.pod<uint64_t>();
    f.tensors.push_back(t);
  }
  uint64_t alignment = 32;
  if (f.kv.count("general.alignment")) alignment = std::get<uint64_t>(f.kv["general.alignment"].scalar);
  f.data_offset = (r.pos() + alignment - 1) / alignment * alignment;
  return f;
}

uint64_t u(const GgufFile& f, const std::string& k) {
  const Value& v = f.kv.at(k);
  EXPECT_EQ(v.type, 4u) << k << " should be uint32";
  return std::get<uint64_t>(v.scalar);
}
double f32(const GgufFile& f, const std::string& k) {
  const Value& v = f.kv.at(k);
  EXPECT_EQ(v.type, 6u) << k << " should be float32";
  return std::get<double>(v.scalar);
}
std::string s(const GgufFile& f, const std::string& k) {
  return std::get<std::string>(f.kv.at(k).scalar);
}

uint64_t bytes_of(const TensorEntry& t) {
  uint64_t n = 1;
  for (uint64_t d : t.ne) n *= d;
  switch (t.type) {
    case 0:
      return 4 * n;
    case 1:
      return 2 * n;
    case 2:
      return n / 32 * 18;
    case 8:
      return n / 32 * 34;
    case 12:
      return n / 256 * 144;
    case 13:
      return n / 256 * 176;
    case 14:
      return n / 256 * 210;
  }
  ADD_FAILURE() << t.name << ": unexpected type " << t.type;
  return 0;
}

ModelConfig tiny(const std::string& arch, bool tied, bool llama3_scaling = false) {
  test::TinyModelSpec spec;
  spec.architecture = arch;
  spec.tied = tied;
  spec.vocab = 300;
  nlohmann::json j = test::tiny_config(spec);
  j["torch_dtype"] = "bfloat16";
  if (llama3_scaling)
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", 8.0},
                         {"low_freq_factor", 1.0},
                         {"high_freq_factor", 4.0},
                         {"original_max_position_embeddings", 64}};
  return ModelConfig::from_json(j, "tiny config.json");
}

// Checks the layout every file must have and returns the tensors by name.
std::map<std::string, TensorEntry> check_layout(const GgufFile& f, const ModelConfig& c) {
  EXPECT_EQ(f.version, 3u);
  std::map<std::string, TensorEntry> by_name;
  uint64_t end = 0;
  for (const auto& t : f.tensors) {
    EXPECT_TRUE(by_name.emplace(t.name, t).second) << "duplicate tensor " << t.name;
    EXPECT_EQ(t.offset % 32, 0u) << t.name;
    EXPECT_GE(t.offset, end) << t.name << " overlaps the tensor before it";
    end = t.offset + bytes_of(t);
  }
  EXPECT_EQ(f.data_offset % 32, 0u);
  EXPECT_GE(f.bytes.size(), f.data_offset + end);
  EXPECT_LT(f.bytes.size(), f.data_offset + end + 32);

  const std::string arch = s(f, "general.architecture");
  EXPECT_EQ(u(f, arch + ".embedding_length"), c.hidden_size);
  EXPECT_EQ(u(f, arch + ".block_count"), c.n_layers);
  EXPECT_EQ(u(f, arch + ".feed_forward_length"), c.intermediate_size);
  EXPECT_EQ(u(f, arch + ".attention.head_count"), c.n_heads);
  EXPECT_EQ(u(f, arch + ".attention.head_count_kv"), c.n_kv_heads);
  EXPECT_EQ(u(f, arch + ".context_length"), c.max_position_embeddings);
  EXPECT_FLOAT_EQ(f32(f, arch + ".rope.freq_base"), float(c.rope_theta));
  EXPECT_FLOAT_EQ(f32(f, arch + ".attention.layer_norm_rms_epsilon"), float(c.rms_norm_eps));
  EXPECT_EQ(s(f, "tokenizer.ggml.model"), "gpt2");
  const Value& tokens = f.kv.at("tokenizer.ggml.tokens");
  EXPECT_EQ(tokens.array_type, 8u);
  EXPECT_EQ(tokens.array.size(), c.vocab_size);
  std::set<std::string> distinct;
  for (const auto& t : tokens.array) distinct.insert(std::get<std::string>(t.scalar));
  EXPECT_EQ(distinct.size(), c.vocab_size) << "llama.cpp needs distinct token texts";
  EXPECT_EQ(f.kv.at("tokenizer.ggml.token_type").array.size(), c.vocab_size);
  EXPECT_EQ(f.kv.at("tokenizer.ggml.merges").array_type, 8u);
  EXPECT_EQ(u(f, "tokenizer.ggml.bos_token_id"), uint64_t(*c.bos_token_id));
  EXPECT_EQ(u(f, "tokenizer.ggml.eos_token_id"), uint64_t(c.eos_token_ids[0]));

  // Every tensor llama.cpp's qwen2/llama loader asks for, in ggml order (ne[0] = columns).
  const uint64_t h = c.hidden_size, ffn = c.intermediate_size, q = c.q_dim(), kv = c.kv_dim();
  std::map<std::string, std::vector<uint64_t>> want = {{"token_embd.weight", {h, c.vocab_size}},
                                                       {"output_norm.weight", {h}}};
  if (!c.tie_word_embeddings) want["output.weight"] = {h, c.vocab_size};
  for (size_t i = 0; i < c.n_layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    want[b + "attn_norm.weight"] = {h};
    want[b + "attn_q.weight"] = {h, q};
    want[b + "attn_k.weight"] = {h, kv};
    want[b + "attn_v.weight"] = {h, kv};
    want[b + "attn_output.weight"] = {q, h};
    want[b + "ffn_norm.weight"] = {h};
    want[b + "ffn_gate.weight"] = {h, ffn};
    want[b + "ffn_up.weight"] = {h, ffn};
    want[b + "ffn_down.weight"] = {ffn, h};
    if (c.qkv_bias) {
      want[b + "attn_q.bias"] = {q};
      want[b + "attn_k.bias"] = {kv};
      want[b + "attn_v.bias"] = {kv};
    }
  }
  if (c.rope_scaling.kind == RopeScaling::Kind::Llama3) want["rope_freqs.weight"] = {c.head_dim / 2};
  EXPECT_EQ(by_name.size(), want.size());
  for (const auto& [name, ne] : want) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      ADD_FAILURE() << "missing " << name;
      continue;
    }
    EXPECT_EQ(it->second.ne, ne) << name;
    if (ne.size() == 1) {
      EXPECT_EQ(it->second.type, 0u) << name << " should be F32";
    }
  }
  return by_name;
}

const char* data_of(const GgufFile& f, const TensorEntry& t) {
  return f.bytes.data() + f.data_offset + t.offset;
}

TEST(DummyGguf, Qwen2Q8HoldsR1serveDummyWeights) {
  test::TempDir dir;
  const ModelConfig c = tiny("Qwen2ForCausalLM", false);
  gguf::WriteOptions opt;
  opt.type = gguf::FileType::Q8_0;
  opt.threads = 2;
  const gguf::WriteSummary sum = gguf::write_dummy_gguf(c, dir.file("m.gguf"), opt);
  const GgufFile f = read_gguf(dir.file("m.gguf"));
  EXPECT_EQ(s(f, "general.architecture"), "qwen2");
  EXPECT_EQ(s(f, "tokenizer.ggml.pre"), "qwen2");
  EXPECT_EQ(u(f, "general.file_type"), 7u);
  EXPECT_EQ(f.tensors.size(), sum.n_tensors);
  EXPECT_EQ(f.kv.size(), sum.n_kv);
  EXPECT_EQ(f.data_offset, sum.data_offset);
  EXPECT_EQ(f.bytes.size(), sum.file_bytes);
  auto t = check_layout(f, c);
  for (const auto& [name, e] : t) {
    if (e.ne.size() != 2) continue;
    EXPECT_EQ(e.type, 8u) << name << " should be Q8_0";
  }

  // The same numbers as `r1serve perf --load-format dummy`: its F32 weights through the reference quantizer.
  const Weights w = dummy_weights(c, WeightPrecision::F32);
  ASSERT_EQ(w.embed.dtype, DType::F32);
  std::vector<kernels::ref::BlockQ8_0> blocks(c.vocab_size * c.hidden_size / 32);
  kernels::ref::quantize_q8_0(static_cast<const float*>(w.embed.data), blocks.size(), blocks.data());
  EXPECT_EQ(std::memcmp(data_of(f, t.at("token_embd.weight")), blocks.data(), blocks.size() * 34), 0);
  std::vector<float> bias(c.q_dim());
  std::memcpy(bias.data(), data_of(f, t.at("blk.1.attn_q.bias")), bias.size() * 4);
  for (size_t i = 0; i < bias.size(); ++i) ASSERT_EQ(bias[i], w.layers[1].bq[i]) << i;
  const float* norm = reinterpret_cast<const float*>(data_of(f, t.at("output_norm.weight")));
  for (size_t i = 0; i < c.hidden_size; ++i) ASSERT_EQ(norm[i], 1.0f);
}

TEST(DummyGguf, Q4KeepsEmbeddingAndOutputInQ8) {
  test::TempDir dir;
  const ModelConfig c = tiny("Qwen2ForCausalLM", false);
  gguf::WriteOptions opt;
  opt.type = gguf::FileType::Q4_0;
  gguf::write_dummy_gguf(c, dir.file("m.gguf"), opt);
  const GgufFile f = read_gguf(dir.file("m.gguf"));
  EXPECT_EQ(u(f, "general.file_type"), 2u);
  auto t = check_layout(f, c);
  for (const auto& [name, e] : t) {
    if (e.ne.size() != 2) continue;
    const bool edge = name == "token_embd.weight" || name == "output.weight";
    EXPECT_EQ(e.type, edge ? 8u : 2u) << name;
  }
}

TEST(DummyGguf, LlamaF16TiedWithLlama3RopeFactors) {
  test::TempDir dir;
  const ModelConfig c = tiny("LlamaForCausalLM", true, true);
  gguf::WriteOptions opt;
  opt.type = gguf::FileType::F16;
  gguf::write_dummy_gguf(c, dir.file("m.gguf"), opt);
  const GgufFile f = read_gguf(dir.file("m.gguf"));
  EXPECT_EQ(s(f, "general.architecture"), "llama");
  EXPECT_EQ(s(f, "tokenizer.ggml.pre"), "llama-bpe");
  EXPECT_EQ(u(f, "general.file_type"), 1u);
  auto t = check_layout(f, c);  // no output.weight (tied), no biases, rope_freqs.weight
  for (const auto& [name, e] : t) {
    if (e.ne.size() != 2) continue;
    EXPECT_EQ(e.type, 1u) << name << " should be F16";
  }
  // head_dim 16, theta 1e4, original context 64: the fastest frequencies keep factor 1, the slowest get 8.
  const float* fr = reinterpret_cast<const float*>(data_of(f, t.at("rope_freqs.weight")));
  EXPECT_EQ(fr[0], 1.0f);
  EXPECT_EQ(fr[c.head_dim / 2 - 1], 8.0f);
  for (size_t i = 1; i < c.head_dim / 2; ++i) EXPECT_GE(fr[i], fr[i - 1]);
}

TEST(DummyGguf, RejectsColumnsThatAreNotBlocks) {
  test::TinyModelSpec spec;
  spec.hidden = 48;  // 48 columns: no Q8_0 blocks of 32
  spec.heads = 4;
  const ModelConfig c = ModelConfig::from_json(test::tiny_config(spec), "config.json");
  EXPECT_THROW(gguf::plan_tensors(c, gguf::FileType::Q8_0), Error);
  EXPECT_NO_THROW(gguf::plan_tensors(c, gguf::FileType::F16));
  EXPECT_THROW(gguf::plan_tensors(c, gguf::FileType::Q4_K_M),
               Error);  // 48 columns: no 256-value super-blocks
  EXPECT_THROW(gguf::parse_file_type("q3_k_s"), Error);
  EXPECT_EQ(gguf::parse_file_type("q4_k_m"), gguf::FileType::Q4_K_M);
  EXPECT_EQ(gguf::parse_file_type("q5_k_m"), gguf::FileType::Q5_K_M);
  EXPECT_EQ(gguf::parse_file_type("q6_k"), gguf::FileType::Q6_K);
}

// A shape whose matrices are all made of 256-value super-blocks, with 8 layers so that llama.cpp's
// use_more_bits (first and last eighth, every third between) picks layers 0, 3, 6 and 7.
ModelConfig tiny_k(bool tied) {
  test::TinyModelSpec spec;
  spec.architecture = "Qwen2ForCausalLM";
  spec.hidden = 256;
  spec.ffn = 512;
  spec.layers = 8;
  spec.tied = tied;
  spec.vocab = 300;
  return ModelConfig::from_json(test::tiny_config(spec), "tiny config.json");
}

// ggml type ids: 12 Q4_K, 13 Q5_K, 14 Q6_K.
void check_k_mix(gguf::FileType type, uint64_t ftype, uint32_t base, bool tied) {
  test::TempDir dir;
  const ModelConfig c = tiny_k(tied);
  gguf::WriteOptions opt;
  opt.type = type;
  opt.threads = 2;
  gguf::write_dummy_gguf(c, dir.file("m.gguf"), opt);
  const GgufFile f = read_gguf(dir.file("m.gguf"));
  EXPECT_EQ(u(f, "general.file_type"), ftype);
  auto t = check_layout(f, c);
  const std::set<int> more_bits = {0, 3, 6, 7};
  for (const auto& [name, e] : t) {
    if (e.ne.size() != 2) continue;
    uint32_t want = base;
    if (name == "output.weight" || (tied && name == "token_embd.weight")) want = 14;
    const bool v_or_down =
        name.find("attn_v") != std::string::npos || name.find("ffn_down") != std::string::npos;
    if (v_or_down && more_bits.count(std::stoi(name.substr(4)))) want = 14;
    EXPECT_EQ(e.type, want) << gguf::file_type_name(type) << " " << name;
  }

  // token_embd holds r1serve's dummy embedding through the reference k-quantizer, byte for byte, and decodes
  // back to within its bound (kquant_quantize_test).
  const Weights w = dummy_weights(c, WeightPrecision::F32);
  const auto* embed = static_cast<const float*>(w.embed.data);
  const TensorEntry& e = t.at("token_embd.weight");
  const size_t n = c.vocab_size * c.hidden_size;
  std::vector<uint8_t> want(bytes_of(e));
  std::vector<float> back(n);
  if (e.type == 12)
    kernels::ref::quantize_q4_k(embed, want.data(), n),
        kernels::ref::dequantize_q4_k(want.data(), back.data(), n);
  if (e.type == 13)
    kernels::ref::quantize_q5_k(embed, want.data(), n),
        kernels::ref::dequantize_q5_k(want.data(), back.data(), n);
  if (e.type == 14)
    kernels::ref::quantize_q6_k(embed, want.data(), n),
        kernels::ref::dequantize_q6_k(want.data(), back.data(), n);
  EXPECT_EQ(std::memcmp(data_of(f, e), want.data(), want.size()), 0) << "token_embd bytes";
  double err2 = 0, x2 = 0;
  for (size_t i = 0; i < n; ++i)
    err2 += double(back[i] - embed[i]) * (back[i] - embed[i]), x2 += double(embed[i]) * embed[i];
  EXPECT_LT(std::sqrt(err2 / x2), e.type == 12   ? 0.08
                                  : e.type == 13 ? 0.04
                                                 : 0.02)
      << "token_embd round trip";
}

TEST(DummyGguf, Q4KMTypesEachMatrixAsLlamaQuantize) {
  check_k_mix(gguf::FileType::Q4_K_M, 15, 12, false);
}
TEST(DummyGguf, Q5KMTypesEachMatrixAsLlamaQuantize) {
  check_k_mix(gguf::FileType::Q5_K_M, 17, 13, false);
}
TEST(DummyGguf, Q6KIsQ6KThroughout) {
  check_k_mix(gguf::FileType::Q6_K, 18, 14, false);
}
TEST(DummyGguf, Q4KMTiedEmbeddingIsTheOutputMatrix) {
  check_k_mix(gguf::FileType::Q4_K_M, 15, 12, true);
}

// The 1.5B distill's shape (the benchmark's): every matrix fits the k-quant super-blocks, the Q4_K_M / Q5_K_M
// mixes promote 14 of the 28 layers' attn_v and ffn_down plus the output to Q6_K, and the tensor data come to
// 1.111 / 1.280 / 1.458 / 1.889 GB for Q4_K_M / Q5_K_M / Q6_K / Q8_0. With the real tokenizer's few MB of
// metadata that is the size of the published files of this model made by llama-quantize (e.g. unsloth's
// Q5_K_M 1.29 GB and Q8_0 1.89 GB), which the typing rule decides.
TEST(DummyGguf, KQuantMixesOfThe1p5BShape) {
  R1_REQUIRE_SHARED();
  const ModelConfig c =
      dummy_config(test::shared_path("hf-metadata/reconstructed/DeepSeek-R1-Distill-Qwen-1.5B"));
  struct Want {
    gguf::FileType type;
    uint32_t base;
    size_t n_base, n_q6k;
    double gb;
  };
  for (const Want& w :
       {Want{gguf::FileType::Q4_K_M, 12, 169, 29, 1.1114}, Want{gguf::FileType::Q5_K_M, 13, 169, 29, 1.2795},
        Want{gguf::FileType::Q6_K, 14, 198, 198, 1.4582}}) {
    const std::vector<gguf::TensorInfo> plan = gguf::plan_tensors(c, w.type);
    std::map<uint32_t, size_t> count;
    for (const auto& t : plan) ++count[uint32_t(t.type)];
    EXPECT_EQ(count[w.base], w.n_base) << gguf::file_type_name(w.type);
    EXPECT_EQ(count[14], w.n_q6k) << gguf::file_type_name(w.type);
    EXPECT_EQ(count[0], 141u) << "norms and biases stay F32";
    EXPECT_NEAR(double(plan.back().offset + plan.back().bytes) / 1e9, w.gb, 1e-4)
        << gguf::file_type_name(w.type);
  }
}

}  // namespace
}  // namespace r1
