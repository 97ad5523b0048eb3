// The model against ../shared/golden: logits of every prompt position (through the CLI's --dump-logits),
// logits of every decode step along the greedy path (which exercises the KV cache), and greedy ids, for
// every shared model; and stories260K's 200-token greedy run from BOS against llama2.c.
#include <cmath>
#include <fstream>

#include "core/npy.h"
#include "engine/generator.h"
#include "support/test_support.h"

namespace r1 {
namespace {

using test::read_json;
using test::shared_path;

struct Diff {
  double max_abs_diff = 0, max_abs_ref = 0;
};

Diff compare(const std::vector<float>& ours, const std::vector<float>& ref) {
  Diff d;
  EXPECT_EQ(ours.size(), ref.size());
  for (size_t i = 0; i < std::min(ours.size(), ref.size()); ++i) {
    d.max_abs_diff = std::max(d.max_abs_diff, std::fabs(double(ours[i]) - ref[i]));
    d.max_abs_ref = std::max(d.max_abs_ref, std::fabs(double(ref[i])));
  }
  return d;
}

// ASSETS.md: F32 compute must agree within 1e-4 × max(1, max |logit|) at every position.
double f32_tolerance(const Diff& d) { return 1e-4 * std::max(1.0, d.max_abs_ref); }

std::vector<int32_t> ids_from(const nlohmann::json& j) { return j.get<std::vector<int32_t>>(); }

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

std::vector<int32_t> parse_lines(const std::string& out) {
  std::vector<int32_t> ids;
  std::istringstream ss(out);
  int32_t v;
  while (ss >> v) ids.push_back(v);
  return ids;
}

// A golden set and the model file or folder (under ../shared/models) that must reproduce it.
struct GoldenCase {
  std::string golden, model;
};
std::ostream& operator<<(std::ostream& o, const GoldenCase& c) {
  return o << c.model;
}
struct GoldenCaseName {
  std::string operator()(const ::testing::TestParamInfo<GoldenCase>& info) const {
    std::string s = info.param.model;
    for (char& ch : s)
      if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return s;
  }
};

class GoldenModel : public ::testing::TestWithParam<GoldenCase> {
 protected:
  void SetUp() override {
    R1_REQUIRE_SHARED();
    model_dir_ = shared_path("models/" + GetParam().model);
    golden_dir_ = shared_path("golden/" + GetParam().golden);
    manifest_ = read_json(golden_dir_ + "/manifest.json");
  }
  std::string model_dir_, golden_dir_;
  nlohmann::json manifest_;
};

TEST_P(GoldenModel, DumpLogitsMatchEveryPromptPosition) {
  test::TempDir tmp;
  for (const auto& c : manifest_["cases"]) {
    std::string name = c["name"];
    auto ids = ids_from(read_json(golden_dir_ + "/" + c["ids_file"].get<std::string>()));
    std::string out = tmp.file(name + ".npy");
    // --kv-cache-dtype f32: the references are exact float32 forwards, and a 16-bit cache (what auto would
    // pick for the bfloat16/float16 checkpoints without --dtype f32) rounds every cached K/V.
    auto r = test::run_r1serve({"run", "--model", model_dir_, "--dtype", "f32", "--kv-cache-dtype", "f32",
                                "--prompt-ids", join_ids(ids), "--dump-logits", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    NpyArray ours = read_npy_f32(out);
    NpyArray ref = read_npy_f32(golden_dir_ + "/" + c["logits_file"].get<std::string>());
    ASSERT_EQ(ours.shape, ref.shape) << name;
    Diff d = compare(ours.data, ref.data);
    EXPECT_LE(d.max_abs_diff, f32_tolerance(d))
        << GetParam().model << " " << name << ": max |diff| " << d.max_abs_diff;
  }
}

TEST_P(GoldenModel, GreedyDecodeStepLogitsAndIdsMatch) {
  auto model = load_model(model_dir_, WeightPrecision::F32);
  ThreadPool pool(2);
  for (const auto& c : manifest_["cases"]) {
    std::string name = c["name"];
    auto ids = ids_from(read_json(golden_dir_ + "/" + c["ids_file"].get<std::string>()));
    auto want = ids_from(read_json(golden_dir_ + "/" + c["greedy32_file"].get<std::string>()));
    NpyArray ref = read_npy_f32(golden_dir_ + "/" + c["greedy32_logits_file"].get<std::string>());
    Generator gen(*model, pool, ids.size() + want.size());
    GenerateOptions opt;
    opt.sampling.temperature = 0;
    opt.max_tokens = want.size();
    opt.ignore_eos = true;
    std::vector<std::vector<float>> steps;
    auto got = gen.generate(ids, opt, [](int32_t) { return true; }, &steps);
    EXPECT_EQ(got, want) << GetParam().model << " " << name;
    ASSERT_EQ(steps.size(), ref.shape[0]);
    const size_t vocab = ref.shape[1];
    for (size_t s = 0; s < steps.size(); ++s) {
      std::vector<float> row(ref.data.begin() + long(s * vocab), ref.data.begin() + long((s + 1) * vocab));
      Diff d = compare(steps[s], row);
      ASSERT_LE(d.max_abs_diff, f32_tolerance(d)) << GetParam().model << " " << name << " decode step " << s;
    }
  }
}

TEST_P(GoldenModel, CliGreedyIdsMatch) {
  const auto& c = manifest_["cases"][0];
  auto ids = ids_from(read_json(golden_dir_ + "/" + c["ids_file"].get<std::string>()));
  auto want = ids_from(read_json(golden_dir_ + "/" + c["greedy32_file"].get<std::string>()));
  // f32 KV, as above: 32 greedy tokens must be the float32 reference's.
  auto r = test::run_r1serve({"run", "--model", model_dir_, "--dtype", "f32", "--kv-cache-dtype", "f32",
                              "--prompt-ids", join_ids(ids), "--temperature", "0", "--max-tokens", "32",
                              "--ignore-eos", "--output", "ids"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_lines(r.out), want);
}

INSTANTIATE_TEST_SUITE_P(Shared, GoldenModel,
                         ::testing::Values(GoldenCase{"tiny-qwen2", "tiny-qwen2"},
                                           GoldenCase{"tiny-llama3", "tiny-llama3"},
                                           GoldenCase{"tiny-llama-tied", "tiny-llama-tied"},
                                           GoldenCase{"stories260K-hf", "stories260K-hf"}),
                         GoldenCaseName());

// The same goldens from the gguf/ copies of the same weights (read by r1serve's GGUF reader; the llama ones
// with llama.cpp's interleaved q/k rows put back), and every k-quant file of tiny-qwen2-kq with its blocks
// decoded exactly at load (--dtype f32) against llama.cpp on the file's dequantized twin: the same F32
// tolerance, since both sides compute in float32 from identical float weights.
INSTANTIATE_TEST_SUITE_P(
    Gguf, GoldenModel,
    ::testing::Values(GoldenCase{"tiny-qwen2", "tiny-qwen2/gguf/tiny-qwen2-F32.gguf"},
                      GoldenCase{"tiny-llama3", "tiny-llama3/gguf/tiny-llama3-F32.gguf"},
                      GoldenCase{"tiny-llama-tied", "tiny-llama-tied/gguf/tiny-llama-tied-F32.gguf"},
                      GoldenCase{"stories260K-hf", "stories260K-hf/gguf/stories260K-F32.gguf"},
                      GoldenCase{"tiny-qwen2-kq-Q8_0", "tiny-qwen2-kq/gguf/tiny-qwen2-kq-Q8_0.gguf"},
                      GoldenCase{"tiny-qwen2-kq-Q4_0", "tiny-qwen2-kq/gguf/tiny-qwen2-kq-Q4_0.gguf"},
                      GoldenCase{"tiny-qwen2-kq-Q4_1", "tiny-qwen2-kq/gguf/tiny-qwen2-kq-Q4_1.gguf"},
                      GoldenCase{"tiny-qwen2-kq-Q5_0", "tiny-qwen2-kq/gguf/tiny-qwen2-kq-Q5_0.gguf"},
                      GoldenCase{"tiny-qwen2-kq-Q5_1", "tiny-qwen2-kq/gguf/tiny-qwen2-kq-Q5_1.gguf"},
                      GoldenCase{"tiny-qwen2-kq-Q4_K_M", "tiny-qwen2-kq/gguf/tiny-qwen2-kq-Q4_K_M.gguf"},
                      GoldenCase{"tiny-qwen2-kq-Q5_K_M", "tiny-qwen2-kq/gguf/tiny-qwen2-kq-Q5_K_M.gguf"},
                      GoldenCase{"tiny-qwen2-kq-Q6_K", "tiny-qwen2-kq/gguf/tiny-qwen2-kq-Q6_K.gguf"}),
    GoldenCaseName());

// stories260K is a real trained model: 200 greedy tokens from BOS reproduce llama2.c's run.c token for token.
TEST(Stories260K, GreedyFromBosMatchesLlama2c) {
  R1_REQUIRE_SHARED();
  auto want = ids_from(read_json(shared_path("golden/stories260K-hf/greedy200_from_bos_ids.json")));
  // f32 KV: run.c keeps its cache in float32, and 200 greedy steps would amplify a 16-bit cache's rounding.
  auto r = test::run_r1serve({"run", "--model", shared_path("models/stories260K-hf"), "--kv-cache-dtype",
                              "f32", "--prompt-ids", "1", "--temperature", "0", "--max-tokens",
                              std::to_string(want.size()), "--ignore-eos", "--output", "ids"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_lines(r.out), want);
}

}  // namespace
}  // namespace r1
