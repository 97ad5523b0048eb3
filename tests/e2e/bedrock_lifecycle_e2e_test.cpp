// The model's lifecycle as a Bedrock client sees it, with the real AWS SDK as the client. First with the real
// router and HTTP transport in this process (so the test decides when the model is published and when draining
// starts): ModelNotReadyException while loading, a cold start that the SDK's own retries turn into a success,
// ServiceUnavailableException while draining. Then a real server loading on demand (serverless: unloaded when
// idle, loaded by the next request, which gets ModelNotReadyException at once as Bedrock answers).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "server/http_server.h"
#include "server/router.h"
#include "server_process.h"
#include "serving/served_model.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

void run_scenario(int port, const std::string& scenario, const std::string& handler,
                  const std::string& options = "{}") {
  CommandResult r = run_command({node_binary(), std::string(R1_E2E_DIR) + "/bedrock_e2e.mjs", scenario,
                                 "http://127.0.0.1:" + std::to_string(port), js_dir(), handler, options});
  EXPECT_EQ(r.exit_code, 0) << scenario << " over " << handler << ":\n" << r.out << r.err;
}

TEST(BedrockLifecycle, NotReadyThenColdStartRetriedThenUnavailableWhileDraining) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  server::ServeOptions o;
  o.model_dir = shared_path("models/stories260K-hf");
  o.chat_template = shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja");
  o.kv_cache_memory = "64MiB";
  o.threads = 1;
  server::Router router(o, "stories260K-hf");
  server::HttpServerOptions ho;
  ho.port = 0;
  server::HttpServer http(
      ho, [&router](const server::HttpRequest& req, std::shared_ptr<server::HttpResponder> res) {
        router.handle(req, std::move(res));
      });
  http.start();

  run_scenario(http.port(), "notready", "http1");
  run_scenario(http.port(), "notready", "default");
  // The model comes up 1.5 s after the first attempt; the SDK keeps retrying until then.
  std::thread loader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    router.set_model(serving::ServedModel::load(o));
  });
  run_scenario(http.port(), "coldstart", "default");
  loader.join();
  router.set_draining();
  run_scenario(http.port(), "unavailable", "http1");
  run_scenario(http.port(), "unavailable", "default");

  http.stop();
  router.models().shutdown();
}

// Two models, neither loaded at start: each scenario begins cold, one over HTTP/2 and one over HTTP/1.1. The
// first attempt starts the load and gets ModelNotReadyException (429, no load wait on Bedrock's routes); the SDK,
// with maxAttempts raised as Bedrock's docs advise, retries (with its own backoff, seconds apart) until the
// model answers.
TEST(BedrockLifecycle, OnDemandLoadTurnedIntoSuccessBySdkRetries) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  const std::string dir = shared_path("models/stories260K-hf");
  ServerProcess s({"--model", "stories260K-hf=" + dir, "--model", "spare=" + dir, "--chat-template",
                   shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"),
                   "--kv-cache-memory", "64MiB", "--threads", "1"});
  ASSERT_TRUE(s.healthy()) << s.log();
  auto state = [&](const std::string& model) {
    HttpResult r = http_request(s.port(), "GET", "/v1/models/" + model);
    return nlohmann::json::parse(r.body).value("state", "");
  };
  EXPECT_EQ(state("stories260K-hf"), "unloaded");
  EXPECT_EQ(state("spare"), "unloaded");
  run_scenario(s.port(), "coldstart", "default");
  run_scenario(s.port(), "coldstart", "http1", R"({"model": "spare"})");
  // Both went through the registry's own load on demand, not a model published by hand.
  HttpResult m = http_request(s.port(), "GET", "/metrics");
  for (const char* model : {"stories260K-hf", "spare"})
    EXPECT_NE(m.body.find(fmt::format("r1serve_model_loads_total{{model_name=\"{}\",outcome=\"ok\"}} 1", model)),
              std::string::npos)
        << m.body;
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

}  // namespace
}  // namespace r1::test
