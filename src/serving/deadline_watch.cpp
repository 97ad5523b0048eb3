#include "serving/deadline_watch.h"

#include <vector>

#include "serving/generation.h"

namespace r1::serving {

DeadlineWatch::~DeadlineWatch() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeadlineWatch::watch(std::chrono::steady_clock::time_point at, std::weak_ptr<Generation> g) {
  {
    std::lock_guard lock(mu_);
    due_.emplace(at, std::move(g));
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  cv_.notify_all();
}

void DeadlineWatch::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (due_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto now = std::chrono::steady_clock::now();
    if (due_.begin()->first > now) {
      cv_.wait_until(lock, due_.begin()->first);
      continue;
    }
    std::vector<std::weak_ptr<Generation>> expired;
    while (!due_.empty() && due_.begin()->first <= now) {
      expired.push_back(std::move(due_.begin()->second));
      due_.erase(due_.begin());
    }
    // Outside the lock: expire() takes the generation's own lock and calls into the engine.
    lock.unlock();
    for (auto& w : expired)
      if (auto g = w.lock()) g->expire();
    lock.lock();
  }
}

}  // namespace r1::serving
