// --load-format dummy, --tokenizer and --kv-cache-dtype through the real binary: `run` and `serve` on a
// folder that holds nothing but config.json (random weights made from it), with the stories260K tokenizer
// lent by
// --tokenizer; and `run` with a 16-bit KV cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/npy.h"
#include "server_process.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Its tokenizer.json + tokenizer_config.json (512 tokens, BOS 1, EOS 2) serve the dummy model below.
std::string stories() {
  return shared_path("models/stories260K-hf");
}

// stdout of `run --output ids`: one id per line.
std::vector<int32_t> ids_of(const std::string& out) {
  std::vector<int32_t> ids;
  std::istringstream in(out);
  int32_t v = 0;
  while (in >> v) ids.push_back(v);
  return ids;
}

// A folder with only config.json: a tiny Qwen2 shape (q/k/v biases) whose vocabulary matches the stories260K
// tokenizer, so every sampled id decodes.
class DummyModel : public ::testing::Test {
 protected:
  void SetUp() override {
    R1_REQUIRE_SHARED();
    TinyModelSpec spec;
    spec.architecture = "Qwen2ForCausalLM";
    spec.vocab = 512;
    fs::create_directories(model_dir());
    std::ofstream(model_dir() + "/config.json") << tiny_config(spec).dump(2);
  }
  std::string model_dir() const { return tmp_.file("dummy-qwen2"); }

  // `run --load-format dummy` on the config-only folder with the stories tokenizer, plus `extra`.
  CommandResult run(std::vector<std::string> extra) const {
    std::vector<std::string> a = {
        "run",     "--model",  model_dir(),        "--load-format", "dummy", "--tokenizer",
        stories(), "--prompt", "Once upon a time", "--threads",     "1"};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_r1serve(a);
  }

  TempDir tmp_;
};

TEST_F(DummyModel, RunGeneratesTheRequestedTokensAndTheSameSeedRepeats) {
  const std::vector<std::string> sampled = {
      "--max-tokens", "12", "--ignore-eos", "--temperature", "0.8", "--seed", "7", "--output", "ids"};
  CommandResult a = run(sampled);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  std::vector<int32_t> ids = ids_of(a.out);
  ASSERT_EQ(ids.size(), 12u) << a.out;
  for (int32_t id : ids) EXPECT_TRUE(id >= 0 && id < 512) << id;
  // Nobody may mistake this output for a model's: the log says the weights are random.
  EXPECT_NE(a.err.find("RANDOM"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("generated 12 tokens"), std::string::npos) << a.err;

  CommandResult b = run(sampled);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(a.out, b.out) << "same seed, same dummy weights: same ids";

  std::vector<std::string> other_seed = sampled;
  other_seed[6] = "8";
  CommandResult c = run(other_seed);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(ids_of(c.out).size(), 12u);
  EXPECT_NE(a.out, c.out) << "the seed should matter at temperature 0.8";

  // Text output through the lent tokenizer works too.
  CommandResult text = run({"--max-tokens", "6", "--ignore-eos", "--temperature", "0"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.err.find("generated 6 tokens"), std::string::npos) << text.err;
}

TEST_F(DummyModel, RunWithoutDummyNeedsWeightsAndTextNeedsATokenizer) {
  // The same folder read as a real package: no weights, said so.
  CommandResult r = run_r1serve({"run", "--model", model_dir(), "--prompt-ids", "1,5", "--max-tokens", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no weights"), std::string::npos) << r.err;
  // Dummy weights but no tokenizer anywhere: ids still work, text prompts are refused with the way out.
  r = run_r1serve({"run", "--model", model_dir(), "--load-format", "dummy", "--prompt-ids", "1,5",
                   "--max-tokens", "3", "--ignore-eos"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ids_of(r.out).size(), 3u) << r.out;
  r = run_r1serve({"run", "--model", model_dir(), "--load-format", "dummy", "--prompt", "hi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--tokenizer"), std::string::npos) << r.err;
  // A --tokenizer folder without tokenizer.json is named.
  r = run_r1serve({"run", "--model", model_dir(), "--load-format", "dummy", "--tokenizer",
                   tmp_.path().string(), "--prompt", "hi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--tokenizer " + tmp_.path().string() + ": no tokenizer.json"), std::string::npos)
      << r.err;
  // An unknown format is refused at parse time.
  r = run_r1serve({"run", "--model", model_dir(), "--load-format", "npz", "--prompt-ids", "1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--load-format"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("auto, dummy"), std::string::npos) << r.err;
}

TEST_F(DummyModel, ServeAnswersCompletionsOverLoopback) {
  ServerProcess s({"--model", model_dir(), "--load-format", "dummy", "--tokenizer", stories(),
                   "--kv-cache-memory", "16MiB", "--threads", "1"});
  ASSERT_TRUE(s.healthy()) << s.log();
  HttpResult r = http_request(
      s.port(), "POST", "/v1/completions",
      R"({"prompt": "Once upon a time", "max_tokens": 5, "temperature": 0, "ignore_eos": true})");
  ASSERT_EQ(r.status, 200) << r.body << "\n" << s.log();
  json j = json::parse(r.body);
  ASSERT_TRUE(j["choices"].is_array() && j["choices"].size() == 1) << r.body;
  EXPECT_TRUE(j["choices"][0]["text"].is_string()) << r.body;
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length") << r.body;
  EXPECT_EQ(j["usage"]["completion_tokens"], 5) << r.body;
  // The served name is still the folder's; the log warns that the weights are random.
  HttpResult m = http_request(s.port(), "GET", "/v1/models");
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(json::parse(m.body)["data"][0]["id"], "dummy-qwen2") << m.body;
  EXPECT_NE(s.log().find("RANDOM"), std::string::npos) << s.log();
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

TEST_F(DummyModel, ServeWithoutATokenizerFailsNamingWhatIsMissing) {
  CommandResult r = run_r1serve(
      {"serve", "--model", model_dir(), "--load-format", "dummy", "--host", "127.0.0.1", "--port", "0"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(model_dir() + " has no tokenizer.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("pass --tokenizer DIR"), std::string::npos) << r.err;

  r = run_r1serve({"serve", "--model", model_dir(), "--load-format", "dummy", "--tokenizer",
                   tmp_.file("nowhere"), "--host", "127.0.0.1", "--port", "0"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("--tokenizer " + tmp_.file("nowhere") + ": no such folder"), std::string::npos)
      << r.err;
}

// `run --kv-cache-dtype`: a 16-bit cache runs, changes the numbers only by its rounding, and bad values are
// refused at parse time.
class RunKvCacheDtype : public ::testing::Test {
 protected:
  void SetUp() override { write_tiny_model(dir(), TinyModelSpec{}); }
  std::string dir() const { return tmp_.file("tiny"); }
  TempDir tmp_;
};

TEST_F(RunKvCacheDtype, F16RunsAndStaysCloseToF32) {
  for (const char* dt : {"f16", "bf16"}) {
    CommandResult r =
        run_r1serve({"run", "--model", dir(), "--prompt-ids", "1,5,7,9", "--max-tokens", "8", "--ignore-eos",
                     "--temperature", "0", "--kv-cache-dtype", dt, "--threads", "1"});
    ASSERT_EQ(r.exit_code, 0) << dt << ": " << r.err;
    EXPECT_EQ(ids_of(r.out).size(), 8u) << r.out;
    EXPECT_NE(r.err.find(std::string("KV cache ") + dt), std::string::npos) << r.err;
  }
  // Prompt logits read K/V back from the cache: f16 rounding moves them a little, never a lot.
  std::vector<NpyArray> logits;
  for (const char* dt : {"f32", "f16"}) {
    std::string npy = tmp_.file(std::string(dt) + ".npy");
    CommandResult r = run_r1serve({"run", "--model", dir(), "--prompt-ids", "1,5,7,9,11,13",
                                   "--kv-cache-dtype", dt, "--dump-logits", npy, "--threads", "1"});
    ASSERT_EQ(r.exit_code, 0) << dt << ": " << r.err;
    logits.push_back(read_npy_f32(npy));
  }
  ASSERT_EQ(logits[0].shape, logits[1].shape);
  float max_abs = 0, max_diff = 0;
  for (size_t i = 0; i < logits[0].data.size(); ++i) {
    max_abs = std::max(max_abs, std::fabs(logits[0].data[i]));
    max_diff = std::max(max_diff, std::fabs(logits[0].data[i] - logits[1].data[i]));
  }
  EXPECT_GT(max_diff, 0.0f)
      << "an f16 cache should round K/V; identical logits mean the flag did not reach it";
  // f16 keeps 11 significant bits (relative error 2^-11 ≈ 5e-4 per K/V element).
  EXPECT_LE(max_diff, 1e-2f * std::max(1.0f, max_abs)) << "max |logit| " << max_abs;
}

// The default is auto: a bfloat16 checkpoint (every R1 distill) gets a bf16 cache, except on the exact
// --dtype f32 path; the log line says which was chosen.
TEST_F(RunKvCacheDtype, AutoIsBf16ForABfloat16CheckpointAndF32UnderDtypeF32) {
  json cfg = tiny_config(TinyModelSpec{});
  cfg["torch_dtype"] = "bfloat16";
  std::ofstream(dir() + "/config.json") << cfg.dump(2);
  for (auto [dtype, want] : {std::pair{"auto", "KV cache bf16"}, std::pair{"q8", "KV cache bf16"},
                             std::pair{"f32", "KV cache f32"}}) {
    CommandResult r = run_r1serve({"run", "--model", dir(), "--prompt-ids", "1,5", "--max-tokens", "2",
                                   "--ignore-eos", "--dtype", dtype, "--threads", "1"});
    ASSERT_EQ(r.exit_code, 0) << dtype << ": " << r.err;
    EXPECT_NE(r.err.find(want), std::string::npos) << dtype << ": " << r.err;
  }
}

TEST_F(RunKvCacheDtype, BadValueIsRejected) {
  CommandResult r = run_r1serve(
      {"run", "--model", dir(), "--prompt-ids", "1", "--max-tokens", "1", "--kv-cache-dtype", "f8"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--kv-cache-dtype"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"f8\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("f32, f16, bf16"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace r1::test
