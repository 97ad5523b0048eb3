#pragma once
// The per-endpoint, per-load-level summary, computed only from measured (non-warm-up) samples:
// statistics over successful requests, errors counted by kind over all measured requests.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/cost.h"
#include "bench/load_runner.h"
#include "bench/sample.h"
#include "bench/stats.h"

namespace r1::bench {

struct PhaseSummary {
  std::string endpoint, model, phase;
  size_t measured = 0, ok = 0, not_sent = 0;  // measured = sent measured requests, failed ones included
  std::map<std::string, size_t> errors;       // error kind → count
  std::map<std::string, std::string> error_examples;  // error kind → the first message
  // Duration: closed loop (sequential, concurrency) = the union of the intervals in which a measured request
  // was in flight, so warm-ups interleaved between measured runs do not count; open loop (rate) = first
  // measured send → last measured reply, idle gaps included (they are the offered load).
  double duration_s = 0;
  Stats latency_ms, ttft_ms, itl_ms, tpot_ms, output_tps_per_request, input_tokens, output_tokens;
  Throughput throughput;
  double reasoning_tokens = 0, answer_tokens = 0;  // totals over successful measured requests
  size_t gsm8k_graded = 0, gsm8k_correct = 0;
  Cost cost;
};

PhaseSummary summarize(const PhaseResult& phase, const std::string& endpoint, const std::string& model,
                       const Pricing& pricing);

// Seconds covered by the union of [start, end) intervals (ms in, seconds out).
double busy_seconds(std::vector<std::pair<double, double>> intervals_ms);

}  // namespace r1::bench
