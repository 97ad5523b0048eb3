#pragma once
// Descriptive statistics of one metric over the measured samples (latency, TTFT, ITL, ...).
// Percentiles use linear interpolation between closest ranks (numpy.percentile's default, "linear"):
// for sorted x[0..n-1] and q in [0, 1], rank h = (n - 1) q, value = x[floor h] + (h - floor h)(x[ceil h] -
// x[floor h]). The standard deviation is the population one (ddof = 0, numpy.std's default, as vLLM's
// benchmark reports).
#include <cstddef>
#include <vector>

namespace r1::bench {

struct Stats {
  size_t count = 0;  // 0 means "no data": every other field is then 0 and reports print "-"
  double mean = 0, stddev = 0, min = 0, max = 0;
  double p25 = 0, p50 = 0, p75 = 0, p90 = 0, p95 = 0, p99 = 0;
};

// q in [0, 1]; `sorted` ascending and non-empty.
double percentile_sorted(const std::vector<double>& sorted, double q);

// Summary of `values` (any order). Empty input gives Stats{} with count 0.
Stats compute_stats(std::vector<double> values);

}  // namespace r1::bench
