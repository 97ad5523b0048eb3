#pragma once
// The real r1serve binary as a child process on loopback: started with --port 0, its port read from the
// "listening on" log line, ready once GET /health answers 200 (over TLS: once it logs "ready"). Every wait is
// bounded.
#include <sys/types.h>

#include <string>
#include <vector>

namespace r1::test {

class ServerProcess {
 public:
  // Starts `r1serve serve ARGS --host 127.0.0.1 --port 0`; fails the test if it does not become healthy.
  explicit ServerProcess(std::vector<std::string> args);
  ~ServerProcess();  // SIGKILL if still running

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // https:// when the server was started with --ssl-certfile.
  std::string base_url() const {
    return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_);
  }
  bool healthy() const { return healthy_; }
  // Sends SIGTERM and waits (bounded) for the exit; returns the exit code (-1: killed / timeout).
  int terminate(int timeout_s = 30);
  // Everything the server logged so far.
  std::string log() const;
  // VmRSS in KiB from /proc/<pid>/status.
  long rss_kib() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool healthy_ = false;
  bool tls_ = false;
  std::string log_path_;
};

// The node binary found on PATH (run_command does not search PATH), or "node".
std::string node_binary();
// The full path of an executable found on PATH, or "" when there is none.
std::string find_program(const std::string& name);

// One HTTP exchange with the server on a fresh connection: status and body.
struct HttpResult {
  int status = 0;
  std::string body;
};
HttpResult http_request(int port, const std::string& method, const std::string& path,
                        const std::string& body = "", const std::vector<std::string>& headers = {});

}  // namespace r1::test
