#include "serve_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>

extern char** environ;

namespace r1::bench::test {

std::string serve_unavailable_reason() {
  r1::test::CommandResult r = r1::test::run_r1serve({"serve", "--help"});
  if (r.exit_code == 0) return "";
  return "`r1serve serve` is not in this build yet (`r1serve serve --help` exited " +
         std::to_string(r.exit_code) + ")";
}

ServeProcess::ServeProcess(const std::vector<std::string>& args, double ready_timeout_s) {
  std::vector<std::string> argv{R1SERVE_BIN, "serve", "--host", "127.0.0.1", "--port", "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string log_path = dir_.file("serve.log");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    error_ = "posix_spawn failed for " + argv[0];
    return;
  }
  pid_ = pid;
  static const std::regex kListening(R"(listening on http://127\.0\.0\.1:(\d+))");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(ready_timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = log();
    std::smatch m;
    if (port_ == 0 && std::regex_search(text, m, kListening)) port_ = std::stoi(m[1]);
    if (port_ > 0 && text.find("ready:") != std::string::npos) return;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "r1serve serve exited before it was ready; its log:\n" + text;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  error_ = "r1serve serve was not ready within the timeout; its log:\n" + log();
}

std::string ServeProcess::log() const {
  return r1::test::read_file(dir_.file("serve.log"));
}

bool ServeProcess::alive() {
  if (pid_ > 0 && waitpid(pid_, &exit_status_, WNOHANG) == pid_) pid_ = -1;
  return pid_ > 0;
}

std::string ServeProcess::death_report() {
  if (alive()) return "";
  std::string how = WIFSIGNALED(exit_status_)
                        ? "was killed by signal " + std::to_string(WTERMSIG(exit_status_))
                        : "exited with status " + std::to_string(WEXITSTATUS(exit_status_));
  std::string text = log();
  if (text.size() > 3000) text = "…" + text.substr(text.size() - 3000);
  return "r1serve serve " + how + " during the run (a server bug, not the bench's); the end of its log:\n" +
         text;
}

ServeProcess::~ServeProcess() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  // Bounded: the server drains in-flight requests (none here); after 20 s it is killed.
  for (int i = 0; i < 400; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

}  // namespace r1::bench::test
