// The GGUF reader: the shared files parse into the config their safetensors twins have, a crafted tiny
// model loads, and every malformed file fails with one line naming the file and the problem.
#include "model/gguf_file.h"

#include <cmath>

#include "core/error.h"
#include "gguf_builder.h"
#include "model/gguf_config.h"
#include "model/model_package.h"
#include "model/rope.h"
#include "model/weights.h"
#include "support/test_support.h"

namespace r1 {
namespace {

using test::GgufBuilder;
using test::tiny_gguf_model;

// Parses `b` and returns the error message ("" when it parsed).
std::string parse_error(const std::string& b) {
  try {
    parse_gguf(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "x.gguf");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Opens the file as a model package and checks its tensors; returns the error message.
std::string load_error(const GgufBuilder& g) {
  test::TempDir tmp;
  const std::string path = tmp.file("m.gguf");
  g.write(path);
  try {
    ModelPackage p = ModelPackage::open(path);
    Weights::check(p);
  } catch (const Error& e) {
    std::string s = e.what();
    EXPECT_NE(s.find(path), std::string::npos) << "does not name the file: " << s;
    return s;
  }
  return "";
}

void expect_has(const std::string& msg, const std::vector<std::string>& needles) {
  EXPECT_FALSE(msg.empty());
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  for (const auto& n : needles)
    EXPECT_NE(msg.find(n), std::string::npos) << "\"" << n << "\" not in: " << msg;
}

TEST(GgufFile, TinyModelParsesAndLoads) {
  GgufBuilder g = tiny_gguf_model();
  EXPECT_EQ(parse_error(g.bytes()), "");
  test::TempDir tmp;
  g.write(tmp.file("tiny.gguf"));
  ModelPackage p = ModelPackage::open(tmp.file("tiny.gguf"));
  ASSERT_NE(p.gguf(), nullptr);
  EXPECT_EQ(package_name(tmp.file("tiny.gguf")), "tiny");
  const ModelConfig& c = p.config();
  EXPECT_EQ(c.architecture, "Qwen2ForCausalLM");
  EXPECT_EQ(c.hidden_size, 32u);
  EXPECT_EQ(c.n_kv_heads, 1u);
  EXPECT_EQ(c.head_dim, 16u);
  EXPECT_EQ(c.vocab_size, 8u);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_TRUE(c.qkv_bias);
  for (auto prec : {WeightPrecision::F32, WeightPrecision::Auto}) {
    Weights w = Weights::load(p, prec);
    EXPECT_EQ(w.layers.size(), 1u);
    EXPECT_FLOAT_EQ(w.final_norm[5], 0.01f);
  }
}

TEST(GgufFile, EveryTruncationFails) {
  const std::string b = tiny_gguf_model().bytes();
  // Every proper prefix: the header, metadata, tensor table or data runs out somewhere.
  for (size_t n = 0; n < b.size(); n += (n < 2000 ? 1 : 97)) {
    std::string msg = parse_error(b.substr(0, n));
    EXPECT_TRUE(msg.find("truncated") != std::string::npos || msg.find("past the end") != std::string::npos)
        << "prefix of " << n << " bytes: \"" << msg << "\"";
  }
}

TEST(GgufFile, BadMagic) {
  GgufBuilder g = tiny_gguf_model();
  g.magic = "GGML";
  expect_has(parse_error(g.bytes()), {"x.gguf", "bad magic"});
}

TEST(GgufFile, UnsupportedVersions) {
  for (uint32_t v : {1u, 4u}) {
    GgufBuilder g = tiny_gguf_model();
    g.version = v;
    expect_has(parse_error(g.bytes()), {"x.gguf", "unsupported GGUF version " + std::to_string(v)});
  }
  GgufBuilder g = tiny_gguf_model();
  g.version = 2;
  EXPECT_EQ(parse_error(g.bytes()), "");
}

TEST(GgufFile, TensorDataPastTheEnd) {
  GgufBuilder g = tiny_gguf_model();
  std::string b = g.bytes();
  b.resize(b.size() - 64);  // the last tensor (ffn_down, 8 KB) loses its tail
  expect_has(parse_error(b), {"blk.0.ffn_down.weight", "past the end"});
  g.tensors[0].offset = 1ull << 40;
  expect_has(parse_error(g.bytes()), {"token_embd.weight", "past the end"});
}

TEST(GgufFile, OverlappingTensors) {
  GgufBuilder g = tiny_gguf_model();
  g.tensors[2].offset = g.tensors[1].offset;  // attn_norm on top of output_norm
  expect_has(parse_error(g.bytes()), {"output_norm.weight", "blk.0.attn_norm.weight", "overlap"});
}

TEST(GgufFile, MisalignedTensor) {
  GgufBuilder g = tiny_gguf_model();
  g.tensors[3].offset += 4;
  expect_has(parse_error(g.bytes()), {"blk.0.attn_q.weight", "not aligned to 32"});
}

// Every ggml type r1serve does not compute (the lower k-quants, the i-quants, Q8_K/Q8_1 which only exist as
// llama.cpp's intermediates, integer and MXFP4 tensors) is refused by name, with what is supported.
TEST(GgufFile, UnknownTensorType) {
  const std::vector<std::pair<uint32_t, std::string>> refused = {
      {9, "Q8_1"},     {10, "Q2_K"},  {11, "Q3_K"},   {15, "Q8_K"},  {16, "IQ2_XXS"}, {17, "IQ2_XS"},
      {18, "IQ3_XXS"}, {19, "IQ1_S"}, {20, "IQ4_NL"}, {21, "IQ3_S"}, {22, "IQ2_S"},   {23, "IQ4_XS"},
      {24, "I8"},      {28, "F64"},   {29, "IQ1_M"},  {34, "TQ1_0"}, {35, "TQ2_0"},   {39, "MXFP4"}};
  for (const auto& [id, name] : refused) {
    GgufBuilder g = tiny_gguf_model();
    g.tensors[3].type = id;
    expect_has(parse_error(g.bytes()),
               {"x.gguf", "tensor \"blk.0.attn_q.weight\"",
                "unsupported tensor type " + std::to_string(id) + " (" + name + ";",
                "r1serve computes F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K"});
  }
  GgufBuilder g = tiny_gguf_model();
  for (uint32_t id : {4u, 31u, 999u}) {  // retired or never assigned
    g.tensors[0].type = id;
    expect_has(parse_error(g.bytes()), {"token_embd.weight", "unsupported tensor type " + std::to_string(id) +
                                                                 " (not a ggml type this version knows;"});
  }
}

// The same refusal through the CLI: one line on stderr naming the file, the tensor and the type.
TEST(GgufFile, UnsupportedTypeCliErrorIsOneLine) {
  test::TempDir tmp;
  GgufBuilder g = tiny_gguf_model();
  g.tensors[5].type = 11;  // Q3_K
  g.write(tmp.file("q3.gguf"));
  auto r =
      test::run_r1serve({"run", "--model", tmp.file("q3.gguf"), "--prompt-ids", "1", "--max-tokens", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("q3.gguf: tensor \"blk.0.attn_k.weight\": unsupported tensor type 11 (Q3_K; r1serve "
                       "computes F32,"),
            std::string::npos)
      << r.err;
}

// Rope scaling r1serve does not implement (YaRN, LongRoPE, anything unnamed) is refused naming the key and
// what is supported; linear scaling (and none) loads.
TEST(GgufFile, UnsupportedRopeScaling) {
  for (const char* type : {"yarn", "longrope", "su", "dynamic"}) {
    GgufBuilder g = tiny_gguf_model();
    g.kv_str("qwen2.rope.scaling.type", type);
    g.kv_f32("qwen2.rope.scaling.factor", 4.f);
    expect_has(load_error(g),
               {"unsupported metadata \"qwen2.rope.scaling.type\" \"" + std::string(type) + "\"",
                "(supported: none, linear)"});
  }
  GgufBuilder mistyped = tiny_gguf_model();
  mistyped.kv_u32("qwen2.rope.scaling.type", 2);  // llama.cpp's enum value for yarn, not its name
  expect_has(load_error(mistyped), {"\"qwen2.rope.scaling.type\" must be a string"});
  for (const char* type : {"none", "linear"}) {
    GgufBuilder g = tiny_gguf_model();
    g.kv_str("qwen2.rope.scaling.type", type);
    g.kv_f32("qwen2.rope.scaling.factor", 2.f);
    EXPECT_EQ(load_error(g), "") << type;
  }
}

TEST(GgufFile, BlockTypeNeedsWholeBlocks) {
  GgufBuilder g;
  g.add("w", {48, 2}, 8, std::vector<uint8_t>(200));  // Q8_0 rows of 48: not a multiple of 32
  expect_has(parse_error(g.bytes()), {"\"w\"", "not a multiple of Q8_0's block of 32"});
}

TEST(GgufFile, BadMetadata) {
  GgufBuilder g;
  g.kv_raw("k", 77, "");
  expect_has(parse_error(g.bytes()), {"metadata \"k\"", "unknown value type 77"});
  GgufBuilder huge;  // an array that claims more elements than the file has bytes
  huge.kv_raw("a", 9, std::string("\x04\0\0\0", 4) + std::string("\xff\xff\xff\xff\xff\xff\0\0", 8));
  expect_has(parse_error(huge.bytes()), {"metadata \"a\"", "truncated"});
  GgufBuilder dup = tiny_gguf_model();
  dup.kv_u32("qwen2.block_count", 2);
  expect_has(parse_error(dup.bytes()), {"qwen2.block_count", "twice"});
  GgufBuilder align = tiny_gguf_model();
  align.kv_u32("general.alignment", 24);
  expect_has(parse_error(align.bytes()), {"general.alignment", "power of two"});
}

TEST(GgufFile, ShapeDisagreeingWithMetadata) {
  GgufBuilder g = tiny_gguf_model();
  g.tensors[3].ne = {32, 16};  // attn_q: 16 rows where 2 heads x 16 need 32
  g.tensors[3].bytes.resize(32 * 16 * 4);
  expect_has(load_error(g), {"blk.0.attn_q.weight", "shape [16, 32]", "metadata implies [32, 32]"});
}

TEST(GgufFile, MissingAndUnexpectedTensors) {
  expect_has(load_error(tiny_gguf_model("blk.0.ffn_up.weight")), {"missing tensor \"blk.0.ffn_up.weight\""});
  GgufBuilder g = tiny_gguf_model();
  g.f32("blk.1.attn_norm.weight", {32});
  expect_has(load_error(g), {"unexpected tensor \"blk.1.attn_norm.weight\""});
}

TEST(GgufFile, MissingOrUnsupportedArchitecture) {
  GgufBuilder g;
  g.kv_str("general.architecture", "gemma");
  expect_has(load_error(g), {"unsupported general.architecture \"gemma\""});
  GgufBuilder none;
  expect_has(load_error(none), {"general.architecture"});
}

TEST(GgufFile, CliErrorIsOneLine) {
  test::TempDir tmp;
  GgufBuilder g = tiny_gguf_model();
  g.tensors[3].offset += 4;
  g.write(tmp.file("bad.gguf"));
  auto r =
      test::run_r1serve({"run", "--model", tmp.file("bad.gguf"), "--prompt-ids", "1", "--max-tokens", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("bad.gguf: tensor \"blk.0.attn_q.weight\": data offset"), std::string::npos) << r.err;
}

// The gguf/ copies of the shared models carry the config their config.json has.
class SharedGgufConfig : public ::testing::TestWithParam<std::string> {};

TEST_P(SharedGgufConfig, MatchesConfigJson) {
  R1_REQUIRE_SHARED();
  const std::string dir = test::shared_path("models/" + GetParam());
  std::string gguf;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/gguf")) gguf = e.path().string();
  ModelConfig hf = ModelConfig::from_file(dir + "/config.json");
  ModelPackage p = ModelPackage::open(gguf);
  const ModelConfig& c = p.config();
  EXPECT_EQ(c.architecture, hf.architecture);
  EXPECT_EQ(c.hidden_size, hf.hidden_size);
  EXPECT_EQ(c.intermediate_size, hf.intermediate_size);
  EXPECT_EQ(c.n_layers, hf.n_layers);
  EXPECT_EQ(c.n_heads, hf.n_heads);
  EXPECT_EQ(c.n_kv_heads, hf.n_kv_heads);
  EXPECT_EQ(c.head_dim, hf.head_dim);
  EXPECT_EQ(c.vocab_size, hf.vocab_size);
  EXPECT_EQ(c.tie_word_embeddings, hf.tie_word_embeddings);
  EXPECT_EQ(c.qkv_bias, hf.qkv_bias);
  EXPECT_NEAR(c.rms_norm_eps, hf.rms_norm_eps, 1e-7 * hf.rms_norm_eps + 1e-12);
  EXPECT_DOUBLE_EQ(c.rope_theta, hf.rope_theta);
  // Llama 3's scaling arrives as rope_freqs.weight: the frequencies must be config.json's.
  EXPECT_EQ(!c.rope_freq_factors.empty(), hf.rope_scaling.kind == RopeScaling::Kind::Llama3);
  auto a = rope_inv_freq(c), b = rope_inv_freq(hf);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6 * b[i]) << i;
  Weights::check(p);
}

INSTANTIATE_TEST_SUITE_P(Shared, SharedGgufConfig,
                         ::testing::Values("tiny-qwen2", "tiny-llama3", "tiny-llama-tied", "stories260K-hf"),
                         ::r1::test::ParamName());

}  // namespace
}  // namespace r1
