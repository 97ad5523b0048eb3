// Every way a model package can be broken gives one line on stderr naming the file, the tensor and the
// problem, and a non-zero exit — through the real CLI, on crafted files.
#include <fstream>

#include "support/test_support.h"

namespace r1 {
namespace {

using test::SafetensorsBuilder;
using test::TempDir;
using test::TinyModelSpec;

class LoaderErrors : public ::testing::Test {
 protected:
  void SetUp() override { test::write_tiny_model(dir(), spec_); }
  std::string dir() const { return tmp_.file("model"); }
  std::string weights() const { return tmp_.file("model/model.safetensors"); }

  // Runs the CLI on the folder and checks it failed cleanly with one line that mentions every needle.
  void expect_error(const std::vector<std::string>& needles) {
    auto r = test::run_r1serve({"run", "--model", dir(), "--prompt-ids", "1", "--max-tokens", "1"});
    EXPECT_EQ(r.exit_code, 1) << "stderr: " << r.err;
    std::string line = r.err.substr(r.err.rfind("error: ") == std::string::npos ? 0 : r.err.rfind("error: "));
    EXPECT_EQ(line.rfind("error: ", 0), 0u) << "stderr: " << r.err;
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << "not one line: " << line;
    for (const auto& n : needles)
      EXPECT_NE(line.find(n), std::string::npos) << "missing \"" << n << "\" in: " << line;
  }

  SafetensorsBuilder builder() const { return test::tiny_weights(spec_); }
  void write_header(const nlohmann::json& header, const std::vector<uint8_t>& data) const {
    SafetensorsBuilder::write_raw(weights(), header.dump(), data);
  }

  TinyModelSpec spec_;
  TempDir tmp_;
};

TEST_F(LoaderErrors, ValidPackageLoads) {
  auto r = test::run_r1serve(
      {"run", "--model", dir(), "--prompt-ids", "1,5,7", "--max-tokens", "3", "--ignore-eos"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(LoaderErrors, MissingFolder) {
  auto r = test::run_r1serve({"run", "--model", tmp_.file("nowhere"), "--prompt-ids", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nowhere"), std::string::npos) << r.err;
}

TEST_F(LoaderErrors, MissingConfig) {
  std::filesystem::remove(tmp_.file("model/config.json"));
  expect_error({"config.json", "missing"});
}

TEST_F(LoaderErrors, MissingWeights) {
  std::filesystem::remove(weights());
  expect_error({"model.safetensors", "no weights"});
}

TEST_F(LoaderErrors, BadJsonInConfig) {
  std::ofstream(tmp_.file("model/config.json")) << "{\"architectures\": [\"LlamaForCausalLM\",";
  expect_error({"config.json", "invalid JSON"});
}

TEST_F(LoaderErrors, BadJsonInGenerationConfig) {
  std::ofstream(tmp_.file("model/generation_config.json")) << "{temperature: 0.6}";
  expect_error({"generation_config.json", "invalid JSON"});
}

TEST_F(LoaderErrors, UnknownArchitecture) {
  auto cfg = test::tiny_config(spec_);
  cfg["architectures"] = {"MixtralForCausalLM"};
  std::ofstream(tmp_.file("model/config.json")) << cfg.dump();
  expect_error({"config.json", "unsupported architecture", "MixtralForCausalLM"});
}

TEST_F(LoaderErrors, MistypedConfigField) {
  auto cfg = test::tiny_config(spec_);
  cfg["num_hidden_layers"] = "two";
  std::ofstream(tmp_.file("model/config.json")) << cfg.dump();
  expect_error({"config.json", "num_hidden_layers"});
}

TEST_F(LoaderErrors, MissingTensor) {
  auto b = builder();
  b.tensors.erase(std::find_if(b.tensors.begin(), b.tensors.end(),
                               [](const auto& t) { return t.name == "model.layers.1.mlp.up_proj.weight"; }));
  b.write(weights());
  expect_error({"missing tensor", "model.layers.1.mlp.up_proj.weight"});
}

TEST_F(LoaderErrors, ExtraTensor) {
  auto b = builder();
  b.add_f32("model.layers.7.self_attn.q_proj.weight", {2, 2}, {1, 2, 3, 4});
  b.write(weights());
  expect_error({"model.safetensors", "unexpected tensor", "model.layers.7.self_attn.q_proj.weight"});
}

TEST_F(LoaderErrors, WrongShape) {
  auto b = builder();
  for (auto& t : b.tensors)
    if (t.name == "model.norm.weight") t.shape = {t.shape[0] / 2, 2};
  b.write(weights());
  expect_error({"model.safetensors", "model.norm.weight", "shape [32, 2]", "expected [64]"});
}

TEST_F(LoaderErrors, WrongDtype) {
  auto b = builder();
  for (auto& t : b.tensors)
    if (t.name == "model.norm.weight") t.dtype = "I32";
  b.write(weights());
  expect_error({"model.safetensors", "model.norm.weight", "dtype i32"});
}

TEST_F(LoaderErrors, UnknownDtype) {
  auto b = builder();
  for (auto& t : b.tensors)
    if (t.name == "model.norm.weight") t.dtype = "F8_E4M3";
  b.write(weights());
  expect_error({"model.safetensors", "model.norm.weight", "unsupported dtype \"F8_E4M3\""});
}

TEST_F(LoaderErrors, ByteCountDisagreesWithShape) {
  auto b = builder();
  auto h = b.header();
  h["model.norm.weight"]["shape"] = {65};
  write_header(h, b.data());
  expect_error({"model.safetensors", "model.norm.weight", "expected 260"});
}

TEST_F(LoaderErrors, TruncatedFile) {
  auto b = builder();
  auto data = b.data();
  data.resize(data.size() - 100);
  write_header(b.header(), data);
  expect_error({"model.safetensors", "lm_head.weight", "past the end of the file"});
}

TEST_F(LoaderErrors, HeaderLengthPastEndOfFile) {
  std::ofstream f(weights(), std::ios::binary | std::ios::trunc);
  uint64_t n = 1'000'000;
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << "{}";
  f.close();
  expect_error({"model.safetensors", "header length 1000000", "past the end"});
}

TEST_F(LoaderErrors, FileShorterThanHeaderLength) {
  std::ofstream(weights(), std::ios::binary | std::ios::trunc) << "abc";
  expect_error({"model.safetensors", "truncated"});
}

TEST_F(LoaderErrors, HeaderNotJson) {
  SafetensorsBuilder::write_raw(weights(), "{\"a\": [1, 2", {});
  expect_error({"model.safetensors", "header is not valid JSON"});
}

TEST_F(LoaderErrors, OverlappingTensorOffsets) {
  auto b = builder();
  auto h = b.header();
  auto off = h["model.layers.0.input_layernorm.weight"]["data_offsets"];
  // Shift the final norm onto the first layer's norm: same size, overlapping bytes.
  h["model.norm.weight"]["data_offsets"] = {off[0].get<uint64_t>() + 4, off[1].get<uint64_t>() + 4};
  write_header(h, b.data());
  expect_error({"model.safetensors", "overlap", "model.norm.weight"});
}

TEST_F(LoaderErrors, NegativeOffsets) {
  auto b = builder();
  auto h = b.header();
  h["model.norm.weight"]["data_offsets"] = {-4, 0};
  write_header(h, b.data());
  expect_error({"model.safetensors", "model.norm.weight", "data_offsets"});
}

TEST_F(LoaderErrors, ShardMissingFromIndex) {
  nlohmann::json index = {
      {"weight_map", {{"model.embed_tokens.weight", "model-00001-of-00002.safetensors"}}}};
  std::ofstream(tmp_.file("model/model.safetensors.index.json")) << index.dump();
  expect_error({"model-00001-of-00002.safetensors", "missing shard"});
}

TEST_F(LoaderErrors, TensorListedInIndexButAbsentFromShard) {
  std::filesystem::rename(weights(), tmp_.file("model/model-00001-of-00001.safetensors"));
  nlohmann::json index = {{"weight_map",
                           {{"model.embed_tokens.weight", "model-00001-of-00001.safetensors"},
                            {"model.ghost.weight", "model-00001-of-00001.safetensors"}}}};
  std::ofstream(tmp_.file("model/model.safetensors.index.json")) << index.dump();
  expect_error({"model-00001-of-00001.safetensors", "model.ghost.weight", "not in this file"});
}

TEST_F(LoaderErrors, IndexEscapingTheFolder) {
  nlohmann::json index = {{"weight_map", {{"model.embed_tokens.weight", "../../etc/passwd"}}}};
  std::ofstream(tmp_.file("model/model.safetensors.index.json")) << index.dump();
  expect_error({"model.safetensors.index.json", "not a file in the folder"});
}

TEST_F(LoaderErrors, TokenIdOutOfVocabulary) {
  auto r = test::run_r1serve({"run", "--model", dir(), "--prompt-ids", "1,999999", "--max-tokens", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("token id 999999 is out of range (vocab size 128)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace r1
