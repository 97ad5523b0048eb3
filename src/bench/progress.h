#pragma once
// Progress on stderr while requests run: a live line with a bar and ETA redrawn in place when stderr is a
// terminal, otherwise (CI logs, pipes) a plain line at most every `plain_interval_s` seconds.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace r1::bench {

class Progress {
 public:
  explicit Progress(size_t total_requests, double plain_interval_s = 10);
  // A new endpoint or load level begins; shown in the line.
  void set_label(const std::string& label);
  void request_done(bool ok);
  // Requests that will not be sent (duration limit): they leave the total so the ETA stays honest.
  void skipped(size_t n);
  // Prints a whole line (a finished load level's results) without tearing the live line.
  void print(const std::string& line);
  // Clears the live line (before other output) and prints the final count.
  void finish();

 private:
  void draw(bool force);

  std::mutex mu_;
  const bool tty_;
  const double plain_interval_s_;
  size_t total_, done_ = 0, errors_ = 0;
  std::string label_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace r1::bench
