// Failures as the AWS SDKs and TGI clients see them, reached by real causes on a real server on loopback: a
// model whose weights were corrupted after the server started (its on-demand load fails) is the model's error
// (Bedrock ModelErrorException 424, SageMaker ModelError 424, TGI 424 `generation`, OpenAI 500 naming the
// file); a request over --request-timeout is Bedrock's ModelTimeoutException 408, and elsewhere what was
// generated with finish_reason "length" (or 408 when nothing was), with its KV blocks freed.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "raw_http.h"
#include "server_process.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string stories() {
  return shared_path("models/stories260K-hf");
}

void run_js(const ServerProcess& s, const std::string& script, const std::string& scenario,
            const std::string& handler, const json& options) {
  CommandResult r = run_command({node_binary(), std::string(R1_E2E_DIR) + "/" + script, scenario,
                                 s.base_url(), js_dir(), handler, options.dump()});
  EXPECT_EQ(r.exit_code, 0) << script << " " << scenario << " over " << handler << ":\n"
                            << r.out << r.err << "\n--- server log ---\n"
                            << s.log();
}

// The value of one exposition line, or -1.
double metric(int port, const std::string& series) {
  std::string text = http_request(port, "GET", "/metrics").body;
  size_t p = text.find("\n" + series + " ");
  if (p == std::string::npos) return -1;
  return std::stod(text.substr(p + series.size() + 2));
}

// A random Llama with stories' vocabulary, slow enough on one thread (about 10 M parameters) that a few
// hundred tokens take longer than the timeouts below.
void write_slow(const std::string& dir) {
  TinyModelSpec s;
  s.hidden = 384;
  s.ffn = 1024;
  s.layers = 6;
  s.heads = 6;
  s.kv_heads = 2;
  s.vocab = 512;
  s.seed = 11;
  write_tiny_model(dir, s);
}

TEST(AwsFailures, AModelCorruptedAfterStartIsTheModelsErrorOnEveryApi) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  TempDir tmp;
  const std::string dir = tmp.file("broken");
  write_slow(dir);
  // `broken` first: TGI's routes serve the default model.
  ServerProcess s({"--model", "broken=" + dir + ",tokenizer=" + stories(), "--model", "stories=" + stories(),
                   "--kv-cache-memory", "32MiB", "--threads", "1"});
  ASSERT_TRUE(s.healthy()) << s.log();
  // Corrupted while the server runs (nothing loads before the first request): the safetensors header's
  // length now points far past the end of the file.
  const std::string weights = dir + "/model.safetensors";
  {
    std::fstream f(weights, std::ios::in | std::ios::out | std::ios::binary);
    const char huge[8] = {'\xff', '\xff', '\xff', '\x0f', 0, 0, 0, 0};
    f.write(huge, 8);
  }

  // TGI: 424 generation, naming the file.
  RawResponse tgi =
      exchange(s.port(), "POST", "/generate", R"({"inputs": "Once", "parameters": {"max_new_tokens": 3}})");
  EXPECT_EQ(tgi.status, 424) << tgi.body;
  json t = json::parse(tgi.body, nullptr, false);
  EXPECT_EQ(t.value("error_type", ""), "generation") << tgi.body;
  EXPECT_NE(t.value("error", "").find(weights), std::string::npos) << tgi.body;
  // OpenAI: 500 naming the file (the code says it is the model's load).
  RawResponse oai = exchange(s.port(), "POST", "/v1/completions",
                             R"({"model": "broken", "prompt": "Once", "max_tokens": 3})");
  EXPECT_EQ(oai.status, 500) << oai.body;
  json o = json::parse(oai.body, nullptr, false);
  EXPECT_EQ(o["error"].value("code", ""), "model_load_failed") << oai.body;
  EXPECT_NE(o["error"].value("message", "").find(weights), std::string::npos) << oai.body;

  // The SDKs' typed exceptions, over HTTP/2 (the SDK's default) and HTTP/1.1.
  run_js(s, "bedrock_e2e.mjs", "modelerror", "default", {{"model", "broken"}, {"file", weights}});
  run_js(s, "bedrock_e2e.mjs", "modelerror", "http1", {{"model", "broken"}, {"file", weights}});
  run_js(s, "sagemaker_e2e.mjs", "modelerror", "default", {{"endpoint", "broken"}, {"file", weights}});

  // The other model serves on.
  RawResponse ok = exchange(s.port(), "POST", "/v1/completions",
                            R"({"model": "stories", "prompt": "Once", "max_tokens": 3})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

TEST(AwsFailures, RequestTimeoutIsBedrocksModelTimeoutAndFreesTheKvBlocks) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  TempDir tmp;
  const std::string dir = tmp.file("slow");
  write_slow(dir);
  ServerProcess s({"--model", "stories260K-hf=" + dir + ",tokenizer=" + stories(), "--chat-template",
                   shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"),
                   "--request-timeout", "0.4", "--kv-cache-memory", "32MiB", "--threads", "1"});
  ASSERT_TRUE(s.healthy()) << s.log();
  const int port = s.port();

  run_js(s, "bedrock_e2e.mjs", "timeout", "default", {{"timeoutSeconds", 0.4}});
  run_js(s, "bedrock_e2e.mjs", "timeout", "http1", {{"timeoutSeconds", 0.4}});
  // SageMaker passes the container's answer through: what was generated, finish_reason length.
  run_js(s, "sagemaker_e2e.mjs", "timeout", "default", json::object());

  // OpenAI: what was generated, cut with finish_reason "length".
  RawResponse r =
      exchange(port, "POST", "/v1/completions",
               R"({"prompt": "Once upon a time", "max_tokens": 400, "temperature": 0, "ignore_eos": true})");
  ASSERT_EQ(r.status, 200) << r.body;
  json c = json::parse(r.body);
  EXPECT_EQ(c["choices"][0]["finish_reason"], "length") << r.body;
  const int tokens = c["usage"]["completion_tokens"];
  EXPECT_GT(tokens, 0) << r.body;
  EXPECT_LT(tokens, 400) << r.body;
  // TGI likewise.
  RawResponse g =
      exchange(port, "POST", "/generate",
               R"({"inputs": "Once upon a time", "parameters": {"max_new_tokens": 400, "details": true}})");
  ASSERT_EQ(g.status, 200) << g.body;
  json gj = json::parse(g.body);
  EXPECT_EQ(gj["details"]["finish_reason"], "length") << g.body;
  EXPECT_LT(gj["details"]["generated_tokens"].get<int>(), 400) << g.body;

  // Every sequence cut by the timeout gave its KV blocks back.
  double usage = -1;
  for (int i = 0; i < 100 && usage != 0; ++i) {
    usage = metric(port, "vllm:kv_cache_usage_perc{model_name=\"stories260K-hf\"}");
    if (usage != 0) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(usage, 0) << http_request(port, "GET", "/metrics").body;
  EXPECT_EQ(metric(port, "vllm:num_requests_running{model_name=\"stories260K-hf\"}"), 0);
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

// A request that times out before its first token (a long prompt prefilled four tokens a step, about 75
// steps) has nothing to return: OpenAI and TGI answer 408, and SageMaker reports the container's 408 as
// ModelError.
TEST(AwsFailures, TimeoutBeforeTheFirstTokenIs408) {
  R1_REQUIRE_SHARED();
  TempDir tmp;
  const std::string dir = tmp.file("slow");
  write_slow(dir);
  ServerProcess s({"--model", "slow=" + dir + ",tokenizer=" + stories(), "--request-timeout", "0.05",
                   "--max-batch-tokens", "4", "--kv-cache-memory", "32MiB", "--threads", "1"});
  ASSERT_TRUE(s.healthy()) << s.log();
  std::string prompt;
  for (int i = 0; i < 60; ++i) prompt += "Once upon a time ";
  RawResponse r =
      exchange(s.port(), "POST", "/v1/completions", json{{"prompt", prompt}, {"max_tokens", 4}}.dump());
  EXPECT_EQ(r.status, 408) << r.body;
  json e = json::parse(r.body, nullptr, false);
  EXPECT_EQ(e["error"].value("code", ""), "request_timeout") << r.body;
  EXPECT_NE(e["error"].value("message", "").find("--request-timeout"), std::string::npos) << r.body;
  RawResponse g = exchange(s.port(), "POST", "/generate",
                           json{{"inputs", prompt}, {"parameters", {{"max_new_tokens", 4}}}}.dump());
  EXPECT_EQ(g.status, 408) << g.body;
  EXPECT_EQ(json::parse(g.body, nullptr, false).value("error_type", ""), "timeout") << g.body;
  RawResponse sm = exchange(s.port(), "POST", "/endpoints/slow/invocations",
                            json{{"inputs", prompt}, {"parameters", {{"max_new_tokens", 4}}}}.dump());
  EXPECT_EQ(sm.status, 424) << sm.body;
  EXPECT_NE(sm.head.find("ModelError"), std::string::npos) << sm.head;
  EXPECT_EQ(json::parse(sm.body, nullptr, false).value("OriginalStatusCode", 0), 408) << sm.body;
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

}  // namespace
}  // namespace r1::test
