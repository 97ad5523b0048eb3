#include "store/pull_progress.h"

#include <fmt/format.h>

#include <algorithm>

namespace r1::store {

using clock = std::chrono::steady_clock;

std::string human_bytes(double b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.1f} {}", b, units[u]);
}

namespace {
std::string eta(double remaining_bytes, double rate) {
  if (rate <= 0) return "--";
  long s = long(remaining_bytes / rate + 0.5);
  return s >= 3600 ? fmt::format("{}h{:02}m", s / 3600, s / 60 % 60)
                   : fmt::format("{}m{:02}s", s / 60, s % 60);
}
}  // namespace

PullProgress::PullProgress(bool tty, std::FILE* out) : tty_(tty), out_(out), start_(clock::now()) {
  if (tty_) redraw_ = std::thread([this] { redraw_loop(); });
}

PullProgress::~PullProgress() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (redraw_.joinable()) redraw_.join();
}

size_t PullProgress::add_file(const std::string& name, uint64_t size) {
  std::lock_guard lk(mu_);
  File f;
  f.name = name;
  f.size = size;
  files_.push_back(f);
  return files_.size() - 1;
}

void PullProgress::update(size_t i, uint64_t have) {
  std::lock_guard lk(mu_);
  File& f = files_[i];
  if (!f.started) {
    f.started = true;
    f.start = clock::now();
    f.start_have = have;  // a resumed prefix does not count towards the rate
  }
  f.have = have;
}

std::string PullProgress::file_line(const File& f, clock::time_point now) const {
  double secs = std::chrono::duration<double>(now - f.start).count();
  double rate = secs > 0 ? double(f.have - f.start_have) / secs : 0;
  return fmt::format("{:<40} {:>9} / {:<9} {:>10}/s  ETA {}",
                     f.name.size() > 40 ? "…" + f.name.substr(f.name.size() - 39) : f.name,
                     human_bytes(double(f.have)), human_bytes(double(f.size)), human_bytes(rate),
                     eta(double(f.size - std::min(f.have, f.size)), rate));
}

void PullProgress::done(size_t i, bool downloaded) {
  std::lock_guard lk(mu_);
  File& f = files_[i];
  f.finished = true;
  f.downloaded = downloaded;
  f.have = f.size;
  if (tty_) return;  // the live block shows it
  if (!downloaded) {
    std::fprintf(out_, "%s: %s, already in the cache\n", f.name.c_str(), human_bytes(double(f.size)).c_str());
  } else {
    double secs = f.started ? std::chrono::duration<double>(clock::now() - f.start).count() : 0;
    std::fprintf(out_, "%s: %s downloaded in %.1f s\n", f.name.c_str(), human_bytes(double(f.size)).c_str(),
                 secs);
  }
  std::fflush(out_);
}

void PullProgress::draw_locked() {
  auto now = clock::now();
  std::string block;
  size_t lines = 0;
  uint64_t total = 0, have = 0, start_have = 0;
  size_t n_done = 0;
  for (const File& f : files_) {
    total += f.size;
    have += std::min(f.have, f.size);
    start_have += f.start_have;
    n_done += f.finished;
    if (f.started && !f.finished) {
      block += "\x1b[2K" + file_line(f, now) + "\n";
      ++lines;
    }
  }
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? double(have - std::min(have, start_have)) / secs : 0;
  block += "\x1b[2K" +
           fmt::format("total: {} of {} files, {} / {}, {}/s, ETA {}", n_done, files_.size(),
                       human_bytes(double(have)), human_bytes(double(total)), human_bytes(rate),
                       eta(double(total - have), rate)) +
           "\n";
  ++lines;
  // Back to the top of the previous block, draw, and clear what the previous block had below.
  std::string up = lines_drawn_ ? fmt::format("\x1b[{}A", lines_drawn_) : "";
  std::fprintf(out_, "%s%s\x1b[J", up.c_str(), block.c_str());
  std::fflush(out_);
  lines_drawn_ = lines;
}

void PullProgress::redraw_loop() {
  std::unique_lock lk(mu_);
  while (!stop_) {
    draw_locked();
    cv_.wait_for(lk, std::chrono::milliseconds(200), [this] { return stop_; });
  }
}

void PullProgress::finish() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (redraw_.joinable()) redraw_.join();
  std::lock_guard lk(mu_);
  if (tty_) draw_locked();
  uint64_t total = 0, downloaded = 0;
  size_t n_downloaded = 0;
  for (const File& f : files_) {
    total += f.size;
    if (f.downloaded) {
      downloaded += f.size - f.start_have;
      ++n_downloaded;
    }
  }
  double secs = std::chrono::duration<double>(clock::now() - start_).count();
  std::fprintf(out_, "%zu files (%s): %zu downloaded (%s in %.1f s), %zu already in the cache\n",
               files_.size(), human_bytes(double(total)).c_str(), n_downloaded,
               human_bytes(double(downloaded)).c_str(), secs, files_.size() - n_downloaded);
  std::fflush(out_);
}

}  // namespace r1::store
