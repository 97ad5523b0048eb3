#include "server_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "raw_http.h"
#include "support/test_support.h"

namespace r1::test {

namespace {
std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

ServerProcess::ServerProcess(std::vector<std::string> args) {
  static int counter = 0;
  log_path_ = (std::filesystem::temp_directory_path() /
               ("r1serve-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".log"))
                  .string();
  std::vector<std::string> argv = {R1SERVE_BIN, "serve"};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const char* a : {"--host", "127.0.0.1", "--port", "0"}) argv.push_back(a);
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  const std::regex re("listening on (https?)://127\\.0\\.0\\.1:(\\d+)");
  for (int i = 0; i < 600 && port_ == 0; ++i) {
    std::smatch m;
    std::string text = slurp(log_path_);
    if (std::regex_search(text, m, re)) {
      tls_ = m[1] == "https";
      port_ = std::stoi(m[2]);
    }
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    if (!port_) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (port_ == 0) {
    ADD_FAILURE() << "r1serve did not start listening; log:\n" << log();
    return;
  }
  for (int i = 0; i < 600; ++i) {
    // Over TLS (which http_request does not speak) the log's "ready" line stands for GET /health.
    if (tls_ ? log().find("ready: serving") != std::string::npos
             : http_request(port_, "GET", "/health").status == 200) {
      healthy_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "r1serve did not become healthy; log:\n" << log();
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove(log_path_, ec);
}

int ServerProcess::terminate(int timeout_s) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < timeout_s * 20; ++i) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    std::filesystem::path p = std::filesystem::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

std::string node_binary() {
  std::string p = find_program("node");
  return p.empty() ? "node" : p;
}

std::string ServerProcess::log() const {
  return slurp(log_path_);
}

long ServerProcess::rss_kib() const {
  std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

HttpResult http_request(int port, const std::string& method, const std::string& path, const std::string& body,
                        const std::vector<std::string>& headers) {
  RawConnection c(port);
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  if (!body.empty() || method == "POST")
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  if (!c.send(req)) return {};
  auto r = parse_raw_response(c.read_all());
  if (!r) return {};
  return {r->status, r->body};
}

}  // namespace r1::test
