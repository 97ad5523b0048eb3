#pragma once
// A real Prometheus (Debian's /usr/bin/prometheus) as a child process on loopback, scraping one r1serve every
// second, with its storage in a test's temp folder. Every wait is bounded.
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace r1::test {

inline constexpr const char* kPrometheusBin = "/usr/bin/prometheus";
inline constexpr const char* kPromtoolBin = "/usr/bin/promtool";

// A loopback port nobody listens on right now (Prometheus cannot be told port 0).
int free_port();
// Whether something accepts connections on the loopback port.
bool port_open(int port);

class PrometheusProcess {
 public:
  // Scrapes 127.0.0.1:target_port as job `job`; `labels` are added to every series of the target, as
  // Kubernetes service discovery adds namespace and pod; `rule_files` are evaluated every second.
  PrometheusProcess(const TempDir& dir, int target_port, const std::string& job = "r1serve",
                    const std::map<std::string, std::string>& labels = {},
                    const std::vector<std::string>& rule_files = {});
  ~PrometheusProcess();  // SIGTERM, then SIGKILL
  int port() const { return port_; }
  // Until /-/ready answers 200 (30 s at most).
  bool wait_ready() const;
  // Until the target's `up` is 1 (30 s at most): the first scrape came in.
  bool wait_scraped() const;
  std::string log() const;

 private:
  int port_;
  pid_t pid_ = -1;
  std::string log_;
};

// Percent-encodes a query parameter.
std::string url_encode(const std::string& s);
// True when an instant query's result (the JSON text of data.result) holds a number that is not NaN or ±Inf.
bool has_number(const std::string& result_json);

}  // namespace r1::test
