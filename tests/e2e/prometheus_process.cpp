#include "prometheus_process.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "server_process.h"

namespace r1::test {

using namespace std::chrono_literals;

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

PrometheusProcess::PrometheusProcess(const TempDir& dir, int target_port, const std::string& job,
                                     const std::map<std::string, std::string>& labels,
                                     const std::vector<std::string>& rule_files)
    : port_(free_port()) {
  std::string cfg = dir.file("prometheus.yml");
  {
    std::ofstream f(cfg);
    f << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n";
    if (!rule_files.empty()) {
      f << "rule_files:\n";
      for (const std::string& r : rule_files) f << "  - '" << r << "'\n";
    }
    f << "scrape_configs:\n  - job_name: " << job << "\n    static_configs:\n"
      << "      - targets: ['127.0.0.1:" << target_port << "']\n";
    if (!labels.empty()) {
      f << "        labels:\n";
      for (const auto& [k, v] : labels) f << "          " << k << ": '" << v << "'\n";
    }
  }
  std::vector<std::string> args = {
      kPrometheusBin, "--config.file=" + cfg, "--storage.tsdb.path=" + dir.file("tsdb"),
      "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"};
  log_ = dir.file("prometheus.log");
  pid_ = ::fork();
  if (pid_ == 0) {
    FILE* f = std::freopen(log_.c_str(), "w", stderr);
    (void)f;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(kPrometheusBin, argv.data());
    std::_Exit(127);
  }
}

PrometheusProcess::~PrometheusProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(50ms);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

bool PrometheusProcess::wait_ready() const {
  for (int i = 0; i < 300; ++i) {
    if (port_open(port_) && http_request(port_, "GET", "/-/ready").status == 200) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

bool PrometheusProcess::wait_scraped() const {
  // Prometheus finds its targets a few seconds after start.
  for (int i = 0; i < 300; ++i) {
    HttpResult r = http_request(port_, "GET", "/api/v1/query?query=up");
    if (r.status == 200 && r.body.find("\"1\"]") != std::string::npos) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

std::string PrometheusProcess::log() const {
  std::ifstream f(log_);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

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

bool has_number(const std::string& result_json) {
  for (const auto& series : nlohmann::json::parse(result_json)) {
    if (!series.contains("value")) continue;
    std::string v = series["value"][1].get<std::string>();
    if (v != "NaN" && v != "+Inf" && v != "-Inf") return true;
  }
  return false;
}

}  // namespace r1::test
