#pragma once
// What a pull shows while it runs, on stderr: on a terminal a live block redrawn in place (one line per file
// being downloaded: bytes, rate, ETA; and a total line); otherwise one line per finished file, for logs.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace r1::store {

class PullProgress {
 public:
  PullProgress(bool tty, std::FILE* out = stderr);
  ~PullProgress();  // stops the redraw thread (finish() first to print the last state)

  // A file that will be pulled, with its size; returns its handle for the calls below.
  size_t add_file(const std::string& name, uint64_t size);
  // Bytes of the file now on disk (a resumed prefix included).
  void update(size_t file, uint64_t have);
  // The file is in place: `downloaded` false when it was already in the cache.
  void done(size_t file, bool downloaded);
  // Stops redrawing and prints the summary line.
  void finish();

 private:
  struct File {
    std::string name;
    uint64_t size = 0, have = 0, start_have = 0;
    bool started = false, finished = false, downloaded = false;
    std::chrono::steady_clock::time_point start;
  };
  void redraw_loop();
  void draw_locked();
  std::string file_line(const File& f, std::chrono::steady_clock::time_point now) const;

  const bool tty_;
  std::FILE* out_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<File> files_;
  size_t lines_drawn_ = 0;
  bool stop_ = false;
  std::chrono::steady_clock::time_point start_;
  std::thread redraw_;
};

// "1.5 MB", "646 B" (decimal units, as the Hub's pages show sizes).
std::string human_bytes(double bytes);

}  // namespace r1::store
