// The real server on loopback: the official openai npm client (node scripts beside this file) and raw HTTP
// for what a client library would never send.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "raw_http.h"
#include "server_process.h"
#include "shared_server_test.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

using nlohmann::json;

std::string stories() {
  return shared_path("models/stories260K-hf");
}

// Runs one scenario of openai_e2e.mjs against the server.
void run_scenario(const ServerProcess& s, const std::string& scenario, const std::string& api_key = "") {
  std::vector<std::string> argv = {node_binary(), std::string(R1_E2E_DIR) + "/openai_e2e.mjs", scenario,
                                   s.base_url(), js_dir()};
  if (!api_key.empty()) argv.push_back(api_key);
  CommandResult r = run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- server log ---\n" << s.log();
}

std::vector<std::string> openai_server_args() {
  return stories_server_args();
}
class OpenAiClient : public SharedServerTest<openai_server_args> {};

TEST_F(OpenAiClient, ChatStreamingAndNotWithReasoningSplit) {
  run_scenario(*server_, "chat");
}
TEST_F(OpenAiClient, CompletionsStopStringsEchoN) {
  run_scenario(*server_, "completions");
}
TEST_F(OpenAiClient, Logprobs) {
  run_scenario(*server_, "logprobs");
}
TEST_F(OpenAiClient, ErrorsAreTypedOpenAiErrors) {
  run_scenario(*server_, "errors");
}

TEST_F(OpenAiClient, RawHttpBadInput) {
  const int port = server_->port();
  auto expect_error = [&](const HttpResult& r, int status, const std::string& param = "") {
    EXPECT_EQ(r.status, status) << r.body;
    json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
    for (const char* k : {"message", "type", "param", "code"}) EXPECT_TRUE(j["error"].contains(k)) << k;
    if (!param.empty()) EXPECT_EQ(j["error"]["param"], param) << r.body;
  };
  expect_error(http_request(port, "POST", "/v1/chat/completions", "{\"messages\": [}"), 400);
  expect_error(http_request(port, "POST", "/v1/chat/completions", "[1,2]"), 400);
  expect_error(http_request(port, "POST", "/v1/chat/completions", ""), 400);
  expect_error(http_request(port, "POST", "/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": \"ten\"}"),
               400, "max_tokens");
  expect_error(http_request(port, "POST", "/v1/completions", "{\"prompt\": [1, 999999]}"), 400, "prompt");
  expect_error(http_request(port, "POST", "/v1/completions", "{\"prompt\": \"\\ud800\"}"), 400);
  expect_error(http_request(port, "GET", "/v1/completions"), 405);
  expect_error(http_request(port, "GET", "/no/such/route"), 404);
  expect_error(http_request(port, "POST", "/v1/completions", "{\"prompt\": \"x\", \"model\": \"nope\"}"), 404,
               "model");
  // Over --max-body-bytes (default 8 MiB): 413.
  std::string big = "{\"prompt\": \"" + std::string(9u << 20, 'a') + "\"}";
  expect_error(http_request(port, "POST", "/v1/completions", big), 413);
  // Still serving.
  EXPECT_EQ(http_request(port, "GET", "/health").status, 200);
}

TEST_F(OpenAiClient, ModelsTokenizeDetokenizeMetrics) {
  const int port = server_->port();
  HttpResult m = http_request(port, "GET", "/v1/models");
  ASSERT_EQ(m.status, 200);
  json models = json::parse(m.body);
  EXPECT_EQ(models["data"][0]["id"], "stories260K-hf");
  EXPECT_EQ(models["data"][0]["max_model_len"], 512);
  EXPECT_EQ(http_request(port, "GET", "/v1/models/stories260K-hf").status, 200);
  EXPECT_EQ(http_request(port, "GET", "/v1/models/other").status, 404);

  HttpResult t = http_request(port, "POST", "/tokenize", R"({"prompt": "Once upon a time"})");
  ASSERT_EQ(t.status, 200) << t.body;
  json tj = json::parse(t.body);
  EXPECT_EQ(tj["tokens"][0], 1);  // BOS
  EXPECT_EQ(tj["count"], tj["tokens"].size());
  EXPECT_EQ(tj["max_model_len"], 512);
  HttpResult d = http_request(port, "POST", "/detokenize", json{{"tokens", tj["tokens"]}}.dump());
  ASSERT_EQ(d.status, 200);
  EXPECT_NE(json::parse(d.body)["prompt"].get<std::string>().find("Once upon a time"), std::string::npos);
  EXPECT_EQ(http_request(port, "POST", "/detokenize", R"({"tokens": [100000]})").status, 400);
  HttpResult tc =
      http_request(port, "POST", "/tokenize", R"({"messages": [{"role": "user", "content": "Hi"}]})");
  EXPECT_EQ(tc.status, 200) << tc.body;

  HttpResult met = http_request(port, "GET", "/metrics");
  ASSERT_EQ(met.status, 200);
  for (const char* name :
       {"vllm:num_requests_running{", "vllm:num_requests_waiting{", "vllm:kv_cache_usage_perc{",
        "vllm:prefix_cache_queries_total{", "vllm:prefix_cache_hits_total{", "vllm:prompt_tokens_total{",
        "vllm:generation_tokens_total{", "vllm:time_to_first_token_seconds_bucket{",
        "vllm:inter_token_latency_seconds_bucket{", "vllm:e2e_request_latency_seconds_bucket{",
        "vllm:request_queue_time_seconds_bucket{", "vllm:request_success_total{"})
    EXPECT_NE(met.body.find(std::string("\n") + name + "model_name=\"stories260K-hf\""), std::string::npos)
        << name;

  // The engine loop's time split: after a generation, decode steps ran and took time; delivering outputs is
  // counted separately (and can be tiny, but never negative).
  ASSERT_EQ(http_request(port, "POST", "/v1/completions", R"({"prompt": "Once", "max_tokens": 4})").status,
            200);
  const std::string after = http_request(port, "GET", "/metrics").body;
  auto value = [&](const std::string& name) {
    const std::string key = "\n" + name + "{model_name=\"stories260K-hf\",step=\"decode_only\"} ";
    size_t at = after.find(key);
    EXPECT_NE(at, std::string::npos) << name;
    return at == std::string::npos ? -1.0 : std::stod(after.substr(at + key.size()));
  };
  EXPECT_GE(value("r1serve_engine_steps_total"), 3);  // a prefill step, then 3 decode steps
  EXPECT_GT(value("r1serve_engine_step_seconds_total"), 0);
  EXPECT_GE(value("r1serve_engine_output_seconds_total"), 0);
}

TEST(ServerE2E, ApiKeyGuardsV1) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  ServerProcess s(stories_server_args({"--api-key", "sekret"}));
  ASSERT_TRUE(s.healthy());
  run_scenario(s, "auth", "sekret");
  EXPECT_EQ(s.terminate(), 0);
}

TEST(ServerE2E, ChatWithoutTemplateIsAClear400) {
  R1_REQUIRE_SHARED();
  ServerProcess s({"--model", stories(), "--kv-cache-memory", "16MiB", "--threads", "1"});
  ASSERT_TRUE(s.healthy());
  HttpResult r = http_request(s.port(), "POST", "/v1/chat/completions",
                              R"({"messages": [{"role": "user", "content": "Hi"}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("--chat-template"), std::string::npos) << r.body;
  EXPECT_EQ(http_request(s.port(), "POST", "/v1/completions", R"({"prompt": "Hi", "max_tokens": 2})").status,
            200);
  EXPECT_EQ(s.terminate(), 0);
}

TEST(ServerE2E, LimitsAndAdmission) {
  R1_REQUIRE_SHARED();
  ServerProcess s(stories_server_args({"--max-concurrent-requests", "1", "--max-input-tokens", "8",
                                       "--max-total-tokens", "300", "--max-body-bytes", "2000"}));
  ASSERT_TRUE(s.healthy());
  const int port = s.port();
  HttpResult in = http_request(port, "POST", "/v1/completions",
                               R"({"prompt": "Once upon a time there was a little girl named Lily"})");
  EXPECT_EQ(in.status, 400);
  EXPECT_NE(in.body.find("--max-input-tokens"), std::string::npos) << in.body;
  HttpResult total =
      http_request(port, "POST", "/v1/completions", R"({"prompt": "Once", "max_tokens": 299})");
  EXPECT_EQ(total.status, 400);
  EXPECT_NE(total.body.find("300"), std::string::npos) << total.body;
  EXPECT_EQ(http_request(port, "POST", "/v1/completions", std::string(3000, ' ')).status, 413);

  // One long stream holds the only slot: a second request is refused with 429 while it runs.
  RawConnection a(port);
  std::string body = R"({"prompt": "Once", "max_tokens": 290, "ignore_eos": true, "stream": true})";
  ASSERT_TRUE(a.send(
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body));
  // Wait for its first bytes so it is admitted.
  char c;
  ASSERT_EQ(::recv(a.fd(), &c, 1, MSG_PEEK), 1);
  HttpResult busy = http_request(port, "POST", "/v1/completions", R"({"prompt": "Hi", "max_tokens": 2})");
  EXPECT_EQ(busy.status, 429) << busy.body;
  EXPECT_NE(busy.body.find("rate_limit_exceeded"), std::string::npos);
  // The client goes away: the slot comes back once the engine has aborted it.
  a.close();
  int status = 0;
  for (int i = 0; i < 200 && status != 200; ++i) {
    status = http_request(port, "POST", "/v1/completions", R"({"prompt": "Hi", "max_tokens": 2})").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 200);
  EXPECT_NE(s.log().find("\"client_gone\":true"), std::string::npos);
  EXPECT_EQ(s.terminate(), 0);
}

TEST(ServerE2E, SigtermDrainsInFlightStreams) {
  R1_REQUIRE_SHARED();
  ServerProcess s(stories_server_args({"--drain-timeout", "30"}));
  ASSERT_TRUE(s.healthy());
  RawConnection a(s.port());
  std::string body = R"({"prompt": "Once", "max_tokens": 40, "ignore_eos": true, "stream": true})";
  ASSERT_TRUE(a.send(
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body));
  char c;
  ASSERT_EQ(::recv(a.fd(), &c, 1, MSG_PEEK), 1);
  ::kill(s.pid(), SIGTERM);
  // The stream still completes with [DONE].
  auto raw = a.read_response();
  ASSERT_TRUE(raw);
  EXPECT_NE(raw->find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(s.terminate(), 0) << s.log();
  EXPECT_NE(s.log().find("draining"), std::string::npos);
}

}  // namespace
}  // namespace r1::test

namespace r1::test {
namespace {

TEST(ServerE2E, UnloadableModelExitsWithCodeOneAndSaysWhy) {
  TempDir dir;
  CommandResult r = run_r1serve({"serve", "--model", dir.file("missing"), "--port", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no such folder"), std::string::npos) << r.err;
  r = run_r1serve(
      {"serve", "--model", shared_path("models/stories260K-hf"), "--port", "0", "--reasoning-parser", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--reasoning-parser"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace r1::test
