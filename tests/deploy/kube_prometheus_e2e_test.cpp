// The monitoring half of deploy/kubernetes against a real Prometheus (Debian's) scraping a real r1serve on
// loopback (started with the Deployment's own arguments), labelled as Kubernetes service discovery labels a
// pod (job = the Service, namespace, pod): after a short load (chat completions, streamed and not, and
// completions), `promtool check metrics` passes on /metrics, and every query the manifests hold — each
// Grafana panel and variable, the prometheus-adapter rule behind the HPA, the KEDA trigger — returns data
// through Prometheus' HTTP API, and the alert rules evaluate without error.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "kube_support.h"
#include "prometheus_process.h"

namespace r1::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kNamespace = "r1serve";  // deploy/kubernetes/base's namespace, named in the KEDA query
constexpr const char* kModel = "stories260K-hf";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

json instant_query(int port, const std::string& q) {
  HttpResult r = http_request(port, "GET", "/api/v1/query?query=" + url_encode(q));
  EXPECT_EQ(r.status, 200) << q << "\n" << r.body;
  json j = json::parse(r.body, nullptr, false);
  EXPECT_EQ(j.value("status", ""), "success") << q << "\n" << r.body;
  return j.is_object() && j.contains("data") ? j["data"]["result"] : json::array();
}

// promtool check metrics on a /metrics text: the exit code and what it printed.
CommandResult promtool_check_metrics(const TempDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir.file(name)) << text;
  return run_command(
      {"/bin/sh", "-c", std::string(kPromtoolBin) + " check metrics < '" + dir.file(name) + "'"});
}

TEST(KubePrometheus, MetricsPassPromtoolAndEveryManifestQueryReturnsDataUnderLoad) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  R1_REQUIRE_KUBECTL();
  if (!std::filesystem::exists(kPrometheusBin) || !std::filesystem::exists(kPromtoolBin))
    GTEST_SKIP() << kPrometheusBin << " or " << kPromtoolBin
                 << " missing: scripts/install-deps.sh installs Debian's prometheus";
  TempDir dir;
  CommandResult x = run_kube_validate("extract", dir.path().string());
  ASSERT_EQ(x.exit_code, 0) << x.out << x.err;
  json queries = json::parse(std::ifstream(dir.file("queries.json")));
  ASSERT_GE(queries.size(), 20u);

  // r1serve started with the Deployment's own arguments; what the pod's ConfigMap gives it through the
  // environment (HF_MODEL_ID, R1SERVE_THREADS, R1SERVE_KV_CACHE_MEMORY) as flags, for this machine: the
  // shared tiny model, one thread, a small KV budget. --host and --port are ServerProcess's.
  std::vector<std::string> args = {"--model=" + shared_path("models/stories260K-hf"), "--threads=1",
                                   "--kv-cache-memory=64MiB"};
  for (std::string a : json::parse(std::ifstream(dir.file("args.json")))) {
    if (a == "serve" || a.starts_with("--host=") || a.starts_with("--port=")) continue;
    ASSERT_EQ(a.find("$("), std::string::npos) << "the test does not fill in " << a;
    args.push_back(a);
  }
  ASSERT_GE(args.size(), 6u);
  args.insert(args.end(), {"--chat-template",
                           shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja")});
  ServerProcess s(args);
  ASSERT_TRUE(s.healthy()) << s.log();
  PrometheusProcess prom(dir, s.port(), "r1serve",
                         {{"namespace", kNamespace}, {"pod", "r1serve-7c9d8f6b5-x2x4q"}},
                         {dir.file("rules.yml")});
  ASSERT_TRUE(prom.wait_ready()) << prom.log();
  ASSERT_TRUE(prom.wait_scraped()) << "Prometheus never scraped the server\n" << prom.log();

  // About 4 seconds of load from two clients: chat completions streamed and not, and completions.
  const auto until = std::chrono::steady_clock::now() + 4s;
  std::atomic<int> ok{0};
  auto client = [&](int k) {
    const char* bodies[] = {
        R"({"messages": [{"role": "user", "content": "Tell me a story"}], "max_tokens": 16, "stream": true})",
        R"({"messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": 12})",
        R"({"prompt": "Once upon a time", "max_tokens": 20})"};
    const char* paths[] = {"/v1/chat/completions", "/v1/chat/completions", "/v1/completions"};
    for (int i = 0; i < 300 && std::chrono::steady_clock::now() < until; ++i) {
      int j = (i + k) % 3;
      HttpResult r = http_request(s.port(), "POST", paths[j], bodies[j]);
      if (r.status == 200 && (j != 0 || r.body.find("data: [DONE]") != std::string::npos)) ++ok;
    }
  };
  std::thread a(client, 0), b(client, 1);
  a.join();
  b.join();
  ASSERT_GT(ok.load(), 6);
  std::this_thread::sleep_for(3s);  // a few scrapes after the load

  // promtool's linter: r1serve's own series pass it entirely. vLLM's names carry a colon, which the linter
  // reserves for recording rules; they stay, since dashboards, alerts and the HPA metric name them, so that
  // (and only that) may be reported for them.
  HttpResult m = http_request(s.port(), "GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  CommandResult all = promtool_check_metrics(dir, "metrics.txt", m.body);
  std::istringstream lines(all.out + all.err);
  size_t reported = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    ++reported;
    EXPECT_TRUE(std::regex_match(line, std::regex("vllm:[a-z0-9_]+ metric names should not contain ':'")))
        << "promtool check metrics: " << line;
  }
  EXPECT_TRUE(all.exit_code == 0 || (all.exit_code == 3 && reported > 0))
      << all.exit_code << all.out << all.err;
  std::string own;
  std::istringstream body(m.body);
  for (std::string line; std::getline(body, line);)
    if (line.find("vllm:") == std::string::npos) own += line + "\n";
  ASSERT_NE(own.find("r1serve_model_loads_total"), std::string::npos);
  CommandResult r1 = promtool_check_metrics(dir, "own.txt", own);
  EXPECT_EQ(r1.exit_code, 0) << r1.out << r1.err;

  // The PrometheusRule's alerts, loaded into this Prometheus, evaluate on the live series without error.
  HttpResult rules = http_request(prom.port(), "GET", "/api/v1/rules");
  ASSERT_EQ(rules.status, 200) << rules.body;
  const json loaded = json::parse(rules.body);
  size_t alerts = 0;
  for (const json& g : loaded["data"]["groups"])
    for (const json& rule : g["rules"]) {
      EXPECT_EQ(rule.value("health", ""), "ok") << rule.dump();
      EXPECT_EQ(rule.value("lastError", ""), "") << rule.dump();
      ++alerts;
    }
  EXPECT_EQ(alerts, 4u) << rules.body;

  size_t checked = 0;
  for (const json& q : queries) {
    std::string expr = q["expr"].get<std::string>(), source = q["source"].get<std::string>();
    expr = replace_all(expr, "$namespace", kNamespace);
    expr = replace_all(expr, "$model_name", kModel);
    expr = replace_all(expr, "$__rate_interval", "30s");
    std::smatch lv;
    if (std::regex_match(expr, lv, std::regex(R"(label_values\((.*), *([a-z_]+)\))"))) {
      // A Grafana variable: the series it lists carry the label.
      json result = instant_query(prom.port(), lv[1].str());
      bool labelled = false;
      for (const json& series : result) labelled |= series["metric"].contains(lv[2].str());
      EXPECT_TRUE(labelled) << source << ": no series with label " << lv[2] << " for " << lv[1];
    } else {
      json result = instant_query(prom.port(), expr);
      EXPECT_TRUE(has_number(result.dump())) << source << " returned no data: " << expr << "\n"
                                             << result.dump();
    }
    ++checked;
  }
  EXPECT_EQ(checked, queries.size());
  EXPECT_EQ(s.terminate(), 0);
}

}  // namespace
}  // namespace r1::test
