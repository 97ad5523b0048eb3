#pragma once
// Ends generations at their deadline even when no token arrives to notice it: a request still waiting in the
// engine's queue, or in a long prefill, produces no output, so the check a generation makes on each token
// (generation.cpp) cannot cut it. One thread sleeps until the earliest deadline and calls
// Generation::expire() on the generations past it.
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace r1::serving {

class Generation;

class DeadlineWatch {
 public:
  DeadlineWatch() = default;
  ~DeadlineWatch();  // stops the thread; generations still watched are left alone
  DeadlineWatch(const DeadlineWatch&) = delete;
  DeadlineWatch& operator=(const DeadlineWatch&) = delete;

  // Calls g->expire() at `at` unless `g` is gone by then (a finished generation is not kept alive by this).
  void watch(std::chrono::steady_clock::time_point at, std::weak_ptr<Generation> g);

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::weak_ptr<Generation>> due_;
  bool stopping_ = false;
  std::thread thread_;  // started by the first watch()
};

}  // namespace r1::serving
