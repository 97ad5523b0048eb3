// The model's lifecycle as a Bedrock client sees it, with the real router and HTTP transport in this process
// (so the test decides when the model is published and when draining starts) and the real AWS SDK as the
// client: ModelNotReadyException while loading, a cold start that the SDK's own retries turn into a success,
// ServiceUnavailableException while draining.
#include <gtest/gtest.h>

#include <thread>

#include "server/http_server.h"
#include "server/router.h"
#include "server_process.h"
#include "serving/served_model.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

void run_scenario(int port, const std::string& scenario, const std::string& handler) {
  CommandResult r = run_command({node_binary(), std::string(R1_E2E_DIR) + "/bedrock_e2e.mjs", scenario,
                                 "http://127.0.0.1:" + std::to_string(port), js_dir(), handler});
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

}  // namespace
}  // namespace r1::test
