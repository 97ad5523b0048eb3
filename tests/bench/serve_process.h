#pragma once
// A real `r1serve serve` child process on 127.0.0.1 for end-to-end tests: started with --port 0, its port
// read from the "listening on" log line, ready once the "ready:" line appears, stopped with SIGTERM.
#include <string>
#include <vector>

#include "support/test_support.h"

namespace r1::bench::test {

// Empty when this build's r1serve has a working `serve` subcommand; otherwise why not (for GTEST_SKIP).
std::string serve_unavailable_reason();

class ServeProcess {
 public:
  // Starts `r1serve serve --host 127.0.0.1 --port 0 <args>`; waits (bounded) until it is ready.
  // On failure `error()` says why, with the server's log.
  explicit ServeProcess(const std::vector<std::string>& args, double ready_timeout_s = 120);
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  bool ready() const { return port_ > 0 && error_.empty(); }
  const std::string& error() const { return error_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const;
  // False once the child has exited (a crash mid-run shows up as connection errors in the bench).
  bool alive();
  // "" while alive, else what happened and the end of the server's log, for assertion messages.
  std::string death_report();

 private:
  r1::test::TempDir dir_;
  int pid_ = -1;
  int port_ = 0;
  int exit_status_ = 0;
  std::string error_;
};

}  // namespace r1::bench::test
