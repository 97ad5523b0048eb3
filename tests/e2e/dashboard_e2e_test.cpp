// vLLM's Grafana dashboard against r1serve: a real Prometheus (Debian's) scrapes the server every second
// while a short load runs, then every query of every panel of the dashboard (tests/e2e/data, with its source)
// must return data — a non-empty result with a number in it — as Grafana would draw it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "prometheus_process.h"
#include "server_process.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

TEST(VllmDashboard, EveryPanelQueryReturnsDataFromPrometheusUnderLoad) {
  R1_REQUIRE_SHARED();
  if (!std::filesystem::exists(kPrometheusBin))
    GTEST_SKIP() << kPrometheusBin << " missing: scripts/install-deps.sh installs Debian's prometheus";
  std::ifstream qf(std::string(R1_E2E_DIR) + "/data/vllm_grafana_queries.json");
  json dashboard = json::parse(qf);
  ServerProcess s({"--model", shared_path("models/stories260K-hf"), "--chat-template",
                   shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"),
                   "--kv-cache-memory", "64MiB", "--threads", "1"});
  ASSERT_TRUE(s.healthy());
  TempDir dir;
  PrometheusProcess prom(dir, s.port());
  ASSERT_TRUE(prom.wait_ready()) << prom.log();
  // The load begins once Prometheus scrapes the server.
  ASSERT_TRUE(prom.wait_scraped()) << "Prometheus never scraped the server\n" << prom.log();

  // A short load over the three generation endpoints, two clients at a time, for about 6 seconds (bounded).
  const auto until = std::chrono::steady_clock::now() + 6s;
  std::atomic<int> ok{0};
  auto client = [&](int k) {
    for (int i = 0; i < 400 && std::chrono::steady_clock::now() < until; ++i) {
      const char* bodies[] = {
          R"({"prompt": "Once upon a time", "max_tokens": 24})",
          R"({"messages": [{"role": "user", "content": "Tell me a story"}], "max_tokens": 16, "stream": true})",
          R"({"input": "Hi", "max_output_tokens": 12})"};
      const char* paths[] = {"/v1/completions", "/v1/chat/completions", "/v1/responses"};
      int j = (i + k) % 3;
      if (http_request(s.port(), "POST", paths[j], bodies[j]).status == 200) ++ok;
    }
  };
  std::thread a(client, 0), b(client, 1);
  a.join();
  b.join();
  ASSERT_GT(ok.load(), 10);
  std::this_thread::sleep_for(3s);  // a few scrapes after the load

  size_t queries = 0;
  for (const json& panel : dashboard["panels"]) {
    for (const json& e : panel["exprs"]) {
      std::string q = replace_all(e.get<std::string>(), "$model_name", "stories260K-hf");
      q = replace_all(q, "$__rate_interval", "30s");
      HttpResult r = http_request(prom.port(), "GET", "/api/v1/query?query=" + url_encode(q));
      ASSERT_EQ(r.status, 200) << q << "\n" << r.body;
      json j = json::parse(r.body);
      EXPECT_EQ(j["status"], "success") << q;
      EXPECT_TRUE(has_number(j["data"]["result"].dump()))
          << "panel '" << panel["title"].get<std::string>() << "' query returned no data: " << q << "\n"
          << r.body;
      ++queries;
    }
  }
  EXPECT_GE(queries, 30u);
  EXPECT_EQ(s.terminate(), 0);
}

}  // namespace
}  // namespace r1::test
