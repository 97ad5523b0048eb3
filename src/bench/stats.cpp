#include "bench/stats.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace r1::bench {

double percentile_sorted(const std::vector<double>& sorted, double q) {
  R1_CHECK(!sorted.empty(), "percentile of no values");
  R1_CHECK(q >= 0 && q <= 1, "percentile q={} outside [0, 1]", q);
  double h = double(sorted.size() - 1) * q;
  size_t lo = size_t(std::floor(h));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - double(lo)) * (sorted[hi] - sorted[lo]);
}

Stats compute_stats(std::vector<double> values) {
  Stats s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.count = values.size();
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / double(s.count);
  // Two-pass variance: the deviations are small next to the values (latencies in ms), so no cancellation.
  double sq = 0;
  for (double v : values) sq += (v - s.mean) * (v - s.mean);
  s.stddev = std::sqrt(sq / double(s.count));
  s.min = values.front();
  s.max = values.back();
  s.p25 = percentile_sorted(values, 0.25);
  s.p50 = percentile_sorted(values, 0.50);
  s.p75 = percentile_sorted(values, 0.75);
  s.p90 = percentile_sorted(values, 0.90);
  s.p95 = percentile_sorted(values, 0.95);
  s.p99 = percentile_sorted(values, 0.99);
  return s;
}

}  // namespace r1::bench
