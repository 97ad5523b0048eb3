// The "client went away" signal of one HTTP response, shared by the HTTP/1.1 and h2c responders: the transport
// fires it (on its strand) when the connection or stream dies before the response is complete; a handler (on
// any thread, e.g. the engine's) subscribes to stop generating for nobody. Subscribing after the fact runs the
// callback at once, so no disconnect is missed whichever side comes first.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <utility>

namespace r1::server {

class DisconnectSignal {
 public:
  bool fired() const { return fired_.load(); }

  // Runs `fn` once the peer is gone: now if it already is, else when fire() is called.
  void subscribe(std::function<void()> fn) {
    std::unique_lock lock(mu_);
    if (done_) {
      lock.unlock();
      fn();
      return;
    }
    fn_ = std::move(fn);
  }

  void fire() {
    fired_ = true;
    std::function<void()> fn;
    {
      std::lock_guard lock(mu_);
      done_ = true;
      fn = std::move(fn_);
    }
    if (fn) fn();
  }

 private:
  std::atomic<bool> fired_{false};
  std::mutex mu_;
  std::function<void()> fn_;
  bool done_ = false;
};

}  // namespace r1::server
