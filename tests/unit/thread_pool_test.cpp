#include "core/thread_pool.h"

#include <atomic>
#include <numeric>
#include <stdexcept>

#include "support/test_support.h"

namespace r1 {
namespace {

TEST(ThreadPool, ParallelForCoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (size_t n : {size_t(1), size_t(2), size_t(7), size_t(1000)}) {
      std::vector<std::atomic<int>> hits(n);
      for (int rep = 0; rep < 50; ++rep)
        pool.parallel_for(n, [&](size_t b, size_t e) {
          for (size_t i = b; i < e; ++i) hits[i]++;
        });
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 50) << threads << " threads, n=" << n;
    }
  }
}

TEST(ThreadPool, RunGivesEachThreadItsIndex) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> seen(4);
  for (int rep = 0; rep < 1000; ++rep) pool.run([&](int t, int nt) { seen[size_t(t)] += nt; });
  for (auto& s : seen) EXPECT_EQ(s.load(), 4000);
}

TEST(ThreadPool, ExceptionFromAWorkerReachesTheCaller) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.run([](int t, int) {
    if (t == 1) throw std::runtime_error("boom");
  }),
               std::runtime_error);
  // The pool still works afterwards.
  std::atomic<int> n{0};
  pool.run([&](int, int) { n++; });
  EXPECT_EQ(n.load(), 2);
}

}  // namespace
}  // namespace r1
