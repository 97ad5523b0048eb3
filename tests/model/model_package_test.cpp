// Model packages as Hugging Face publishes them: single file or shards with an index, configs, rope scaling.
#include <cmath>
#include <fstream>

#include "core/error.h"
#include "engine/generator.h"
#include "model/model_config.h"
#include "model/rope.h"
#include "support/test_support.h"

namespace r1 {
namespace {

using test::TempDir;

std::vector<float> logits_of(const std::string& dir, const std::vector<int32_t>& ids) {
  auto m = load_model(dir, WeightPrecision::F32);
  ThreadPool pool(2);
  Generator g(*m, pool, 64);
  return g.prompt_logits(ids);
}

TEST(ModelPackage, ShardedEqualsSingleFile) {
  TempDir tmp;
  test::TinyModelSpec spec;
  test::write_tiny_model(tmp.file("single"), spec);
  test::write_tiny_model(tmp.file("sharded"), spec);
  std::filesystem::remove(tmp.file("sharded/model.safetensors"));
  // Split the tensors over two shards and write the index that names them.
  auto all = test::tiny_weights(spec);
  test::SafetensorsBuilder a, b;
  nlohmann::json map = nlohmann::json::object();
  for (size_t i = 0; i < all.tensors.size(); ++i) {
    bool first = i < all.tensors.size() / 2;
    (first ? a : b).tensors.push_back(all.tensors[i]);
    map[all.tensors[i].name] =
        first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  a.write(tmp.file("sharded/model-00001-of-00002.safetensors"));
  b.write(tmp.file("sharded/model-00002-of-00002.safetensors"));
  std::ofstream(tmp.file("sharded/model.safetensors.index.json"))
      << nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", map}}.dump();

  std::vector<int32_t> ids{1, 17, 42, 99, 3};
  EXPECT_EQ(logits_of(tmp.file("single"), ids), logits_of(tmp.file("sharded"), ids));
  EXPECT_EQ(ModelPackage::open(tmp.file("sharded")).tensors().size(), all.tensors.size());
}

TEST(ModelPackage, TiedModelIgnoresRedundantLmHeadAndRotaryBuffers) {
  TempDir tmp;
  test::TinyModelSpec spec;
  spec.tied = true;
  auto b = test::tiny_weights(spec);
  b.add_f32("lm_head.weight", {spec.vocab, spec.hidden}, std::vector<float>(spec.vocab * spec.hidden, 9.f));
  b.add_f32("model.layers.0.self_attn.rotary_emb.inv_freq", {8}, std::vector<float>(8, 1.f));
  test::write_tiny_model(tmp.file("m"), spec);
  b.write(tmp.file("m/model.safetensors"));
  auto m = load_model(tmp.file("m"), WeightPrecision::Auto);
  EXPECT_EQ(m->weights.lm_head.data, m->weights.embed.data);
}

TEST(ModelPackage, Bf16PrecisionStaysCloseToF32) {
  TempDir tmp;
  test::write_tiny_model(tmp.file("m"), {});
  auto f32 = load_model(tmp.file("m"), WeightPrecision::F32);
  auto bf16 = load_model(tmp.file("m"), WeightPrecision::BF16);
  EXPECT_EQ(bf16->weights.layers[0].wq.dtype, DType::BF16);
  ThreadPool pool(1);
  Generator g1(*f32, pool, 16), g2(*bf16, pool, 16);
  auto a = g1.prompt_logits({1, 2, 3}), b = g2.prompt_logits({1, 2, 3});
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    max_diff = std::max(max_diff, double(std::fabs(a[i] - b[i])));
    max_ref = std::max(max_ref, double(std::fabs(a[i])));
  }
  // BF16 keeps 8 mantissa bits (relative rounding 2^-9 per weight); over this tiny model that moves logits by
  // well under 5% of their scale, while still differing from F32 at all.
  EXPECT_GT(max_diff, 0);
  EXPECT_LT(max_diff, 0.05 * max_ref);
}

TEST(ModelConfig, ReadsTheDistillConfigs) {
  R1_REQUIRE_SHARED();
  auto qwen =
      ModelConfig::from_file(test::shared_path("hf-metadata/DeepSeek-R1-Distill-Qwen-32B/config.json"));
  EXPECT_EQ(qwen.architecture, "Qwen2ForCausalLM");
  EXPECT_TRUE(qwen.qkv_bias);
  EXPECT_EQ(qwen.head_dim, 128u);
  EXPECT_EQ(qwen.n_kv_heads, 8u);
  EXPECT_EQ(qwen.eos_token_ids, std::vector<int>{151643});
  auto llama =
      ModelConfig::from_file(test::shared_path("hf-metadata/DeepSeek-R1-Distill-Llama-8B/config.json"));
  EXPECT_FALSE(llama.qkv_bias);
  EXPECT_EQ(llama.rope_scaling.kind, RopeScaling::Kind::Llama3);
  EXPECT_EQ(llama.rope_scaling.original_max_position_embeddings, 8192);
  // 8.03 B parameters, as published for Llama 3.1 8B.
  EXPECT_NEAR(double(llama.n_params()) / 1e9, 8.03, 0.01);
}

TEST(ModelConfig, RejectsUnsupportedRopeScaling) {
  auto cfg = test::tiny_config({});
  cfg["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  try {
    ModelConfig::from_json(cfg, "cfg.json");
    FAIL() << "yarn accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.json: unsupported rope_scaling type \"yarn\""),
              std::string::npos);
  }
}

TEST(ModelConfig, RejectsHeadsNotDivisibleByKvHeads) {
  auto cfg = test::tiny_config({});
  cfg["num_key_value_heads"] = 3;
  EXPECT_THROW(ModelConfig::from_json(cfg, "cfg.json"), Error);
}

// Llama 3.1's rope scaling, computed by hand from its definition for three representative frequencies.
TEST(Rope, Llama3ScalingKeepsHighSlowsLowBlendsMiddle) {
  ModelConfig c;
  c.head_dim = 8;
  c.rope_theta = 10000;
  c.rope_scaling = {RopeScaling::Kind::Llama3, 8.0, 1.0, 4.0, 64};
  auto inv = rope_inv_freq(c);
  ASSERT_EQ(inv.size(), 4u);
  // Base frequencies 1, 0.1, 0.01, 0.001 → wavelengths 6.3, 63, 628, 6283; bands: < 16 keep, > 64 divide
  // by 8.
  EXPECT_FLOAT_EQ(inv[0], 1.0f);
  double wl = 2 * M_PI / 0.1, smooth = (64 / wl - 1.0) / (4.0 - 1.0);
  EXPECT_NEAR(inv[1], (1 - smooth) * 0.1 / 8 + smooth * 0.1, 1e-7);
  EXPECT_NEAR(inv[2], 0.01 / 8, 1e-9);
  EXPECT_NEAR(inv[3], 0.001 / 8, 1e-10);
}

TEST(GenerationConfig, R1DistillDefaults) {
  R1_REQUIRE_SHARED();
  auto g = GenerationConfig::from_file_if_present(
      test::shared_path("hf-metadata/DeepSeek-R1-Distill-Qwen-32B/generation_config.json"));
  EXPECT_EQ(g.temperature, 0.6);
  EXPECT_EQ(g.top_p, 0.95);
  EXPECT_EQ(g.bos_token_id, 151646);
  EXPECT_EQ(g.eos_token_ids, std::vector<int>{151643});
}

}  // namespace
}  // namespace r1
