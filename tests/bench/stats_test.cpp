// Statistics against values worked out by hand (linear interpolation between closest ranks, population
// stddev).
#include "bench/stats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace r1::bench {
namespace {

TEST(Stats, FiveValuesByHand) {
  // Unsorted on purpose. Sorted: 15 20 35 40 50. mean 160/5 = 32. Deviations -17 -12 3 8 18, squares sum 830,
  // /5 = 166, sqrt = 12.8840987. Ranks h = 4q: p25 h=1 → 20; p50 h=2 → 35; p75 h=3 → 40;
  // p90 h=3.6 → 40 + 0.6·10 = 46; p95 h=3.8 → 48; p99 h=3.96 → 49.6.
  Stats s = compute_stats({40, 15, 50, 35, 20});
  EXPECT_EQ(s.count, 5u);
  EXPECT_DOUBLE_EQ(s.mean, 32.0);
  EXPECT_NEAR(s.stddev, 12.884098726725126, 1e-12);
  EXPECT_DOUBLE_EQ(s.min, 15.0);
  EXPECT_DOUBLE_EQ(s.max, 50.0);
  EXPECT_DOUBLE_EQ(s.p25, 20.0);
  EXPECT_DOUBLE_EQ(s.p50, 35.0);
  EXPECT_DOUBLE_EQ(s.p75, 40.0);
  EXPECT_NEAR(s.p90, 46.0, 1e-12);
  EXPECT_NEAR(s.p95, 48.0, 1e-12);
  EXPECT_NEAR(s.p99, 49.6, 1e-12);
}

TEST(Stats, EvenCountMedianInterpolates) {
  // 1 2 3 4: p50 h=1.5 → 2.5; p90 h=2.7 → 3.7; mean 2.5; variance (2.25+0.25+0.25+2.25)/4 = 1.25.
  Stats s = compute_stats({4, 3, 2, 1});
  EXPECT_DOUBLE_EQ(s.p50, 2.5);
  EXPECT_NEAR(s.p90, 3.7, 1e-12);
  EXPECT_NEAR(s.stddev, std::sqrt(1.25), 1e-12);
}

TEST(Stats, SingleValueAndEmpty) {
  Stats one = compute_stats({7});
  EXPECT_EQ(one.count, 1u);
  EXPECT_DOUBLE_EQ(one.p99, 7.0);
  EXPECT_DOUBLE_EQ(one.stddev, 0.0);
  Stats none = compute_stats({});
  EXPECT_EQ(none.count, 0u);
  EXPECT_DOUBLE_EQ(none.mean, 0.0);
}

TEST(Stats, PercentileEndpoints) {
  std::vector<double> sorted{10, 20};
  EXPECT_DOUBLE_EQ(percentile_sorted(sorted, 0.0), 10.0);
  EXPECT_DOUBLE_EQ(percentile_sorted(sorted, 1.0), 20.0);
  EXPECT_NEAR(percentile_sorted(sorted, 0.9), 19.0, 1e-12);
}

}  // namespace
}  // namespace r1::bench
