#include "bench/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace r1::bench {

namespace {

std::string clock_time(double s) {
  long t = long(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
                   : fmt::format("{}:{:02}", t / 60, t % 60);
}

}  // namespace

Progress::Progress(size_t total_requests, double plain_interval_s)
    : tty_(isatty(STDERR_FILENO) == 1),
      plain_interval_s_(plain_interval_s),
      total_(total_requests),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void Progress::set_label(const std::string& label) {
  std::lock_guard lock(mu_);
  label_ = label;
  draw(!tty_);
}

void Progress::request_done(bool ok) {
  std::lock_guard lock(mu_);
  ++done_;
  if (!ok) ++errors_;
  draw(false);
}

void Progress::skipped(size_t n) {
  std::lock_guard lock(mu_);
  total_ -= std::min(n, total_ - done_);
}

void Progress::print(const std::string& line) {
  std::lock_guard lock(mu_);
  if (tty_) std::fputs("\r\033[K", stderr);
  std::fprintf(stderr, "%s\n", line.c_str());
  if (tty_) draw(true);
}

void Progress::finish() {
  std::lock_guard lock(mu_);
  if (tty_) std::fputs("\r\033[K", stderr);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "bench: %zu requests, %zu errors, %s elapsed\n", done_, errors_,
               clock_time(elapsed).c_str());
}

// Caller holds mu_.
void Progress::draw(bool force) {
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if (!force && since < (tty_ ? 0.1 : plain_interval_s_) && done_ != total_) return;
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string eta = done_ > 0 ? clock_time(elapsed / double(done_) * double(total_ - done_)) : "?";
  double frac = total_ ? double(done_) / double(total_) : 1;
  if (tty_) {
    int width = 24, filled = int(frac * width);
    std::string bar = std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.');
    std::fprintf(stderr, "\r\033[K%s [%s] %zu/%zu %3.0f%%  errors %zu  elapsed %s  ETA %s", label_.c_str(),
                 bar.c_str(), done_, total_, frac * 100, errors_, clock_time(elapsed).c_str(), eta.c_str());
  } else {
    std::fprintf(stderr, "bench: %s %zu/%zu requests (%.0f%%), %zu errors, elapsed %s, ETA %s\n",
                 label_.c_str(), done_, total_, frac * 100, errors_, clock_time(elapsed).c_str(),
                 eta.c_str());
  }
  std::fflush(stderr);
}

}  // namespace r1::bench
