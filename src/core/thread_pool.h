#pragma once
// A fixed pool of threads for the forward pass. Each op is a fork/join over all threads; the join must cost
// microseconds, so idle workers spin briefly on an atomic before they sleep (C++20 atomic wait = futex).
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace r1 {

class ThreadPool {
 public:
  // n_threads counts the calling thread: ThreadPool(2) starts one worker. 0 means hardware_concurrency.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(thread_index, n_threads) once on every thread (the caller is index 0) and returns when all are
  // done. An exception thrown by any call is rethrown here. Not reentrant.
  void run(const std::function<void(int, int)>& fn);

  // Splits [0, n) into one contiguous chunk per thread and calls fn(begin, end) for each non-empty chunk.
  template <typename F>
  void parallel_for(size_t n, F&& fn) {
    if (n == 0) return;
    if (n_threads_ == 1 || n == 1) {
      fn(size_t(0), n);
      return;
    }
    run([&](int t, int nt) {
      size_t begin = n * size_t(t) / size_t(nt), end = n * size_t(t + 1) / size_t(nt);
      if (begin < end) fn(begin, end);
    });
  }

 private:
  void worker_loop(int index);
  void record_exception();

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex error_mu_;
  std::exception_ptr error_;
};

}  // namespace r1
