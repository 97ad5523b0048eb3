// vLLM's Grafana dashboard against r1serve: a real Prometheus (Debian's) scrapes the server every second
// while a short load runs, then every query of every panel of the dashboard (tests/e2e/data, with its source)
// must return data — a non-empty result with a number in it — as Grafana would draw it.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "server_process.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kPrometheus = "/usr/bin/prometheus";

// A loopback port nobody listens on right now (Prometheus cannot be told port 0).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Whether something accepts connections on the loopback port (RawConnection would fail the test instead).
bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(uint16_t(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Prometheus as a child process, stopped (SIGTERM, then SIGKILL) when this goes away.
class PrometheusProcess {
 public:
  PrometheusProcess(const TempDir& dir, int target_port) : port_(free_port()) {
    std::string cfg = dir.file("prometheus.yml");
    std::ofstream(cfg) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                       << "scrape_configs:\n  - job_name: r1serve\n    static_configs:\n"
                       << "      - targets: ['127.0.0.1:" << target_port << "']\n";
    std::vector<std::string> args = {
        kPrometheus, "--config.file=" + cfg, "--storage.tsdb.path=" + dir.file("tsdb"),
        "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"};
    log_ = dir.file("prometheus.log");
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* f = std::freopen(log_.c_str(), "w", stderr);
      (void)f;
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(kPrometheus, argv.data());
      std::_Exit(127);
    }
  }
  ~PrometheusProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }
  bool wait_ready() const {
    for (int i = 0; i < 300; ++i) {
      if (port_open(port_) && http_request(port_, "GET", "/-/ready").status == 200) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  std::string log() const {
    std::ifstream f(log_);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

 private:
  int port_;
  pid_t pid_ = -1;
  std::string log_;
};

std::string url_encode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

// True when a query result holds at least one number that is not NaN.
bool has_number(const json& result) {
  for (const json& series : result) {
    std::vector<json> points;
    if (series.contains("value")) points.push_back(series["value"]);
    for (const json& p : points) {
      std::string v = p[1].get<std::string>();
      if (v != "NaN" && v != "+Inf" && v != "-Inf") return true;
    }
  }
  return false;
}

TEST(VllmDashboard, EveryPanelQueryReturnsDataFromPrometheusUnderLoad) {
  R1_REQUIRE_SHARED();
  if (!std::filesystem::exists(kPrometheus))
    GTEST_SKIP() << kPrometheus << " missing: scripts/install-deps.sh installs Debian's prometheus";
  std::ifstream qf(std::string(R1_E2E_DIR) + "/data/vllm_grafana_queries.json");
  json dashboard = json::parse(qf);
  ServerProcess s({"--model", shared_path("models/stories260K-hf"), "--chat-template",
                   shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"),
                   "--kv-cache-memory", "64MiB", "--threads", "1"});
  ASSERT_TRUE(s.healthy());
  TempDir dir;
  PrometheusProcess prom(dir, s.port());
  ASSERT_TRUE(prom.wait_ready()) << prom.log();
  // Prometheus finds its targets a few seconds after start: the load begins once it scrapes the server.
  bool up = false;
  for (int i = 0; i < 300 && !up; ++i) {
    HttpResult r = http_request(prom.port(), "GET", "/api/v1/query?query=up");
    up = r.status == 200 && r.body.find("\"1\"]") != std::string::npos;
    if (!up) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(up) << "Prometheus never scraped the server\n" << prom.log();

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
      EXPECT_TRUE(has_number(j["data"]["result"]))
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
