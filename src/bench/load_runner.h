#pragma once
// Load patterns: which requests go out when. Closed loop (sequential = one worker, --concurrency C = C
// workers) or open loop (--rate r: Poisson arrivals, exponential gaps of mean 1/r). Every phase is bounded
// by its request count and by the duration limit.
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "bench/dataset.h"
#include "bench/endpoint.h"
#include "bench/openai_request.h"
#include "bench/progress.h"
#include "bench/sample.h"

namespace r1::bench {

enum class LoadMode { kSequential, kConcurrency, kRate };

struct LoadConfig {
  LoadMode mode = LoadMode::kSequential;
  size_t concurrency = 1;
  std::vector<double> rates;  // requests per second; infinity sends everything at once
  size_t warmup = 3, runs = 5;
  double duration_limit_s = 0;  // per phase, 0 = none: no request is sent after this many seconds
  size_t max_in_flight = 256;   // open loop: arrivals wait when this many are in flight
  uint64_t seed = 0;            // Poisson arrival times
};

// The load levels of a config, in order: "sequential", "concurrency=C", or one "rate=R" per rate.
std::vector<std::string> phase_names(const LoadConfig& c);

// How many requests one endpoint gets (warm-ups included), for the progress total.
size_t requests_per_endpoint(const LoadConfig& c, size_t n_prompts);

struct PhaseResult {
  std::string phase;
  LoadMode mode;
  std::vector<Sample> samples;  // warm-ups included, flagged
  size_t not_sent = 0;          // measured requests dropped by the duration limit
};

// Runs every phase against one endpoint. Warm-ups: in the sequential protocol each prompt gets its K warm-up
// runs right before its R measured runs; with --concurrency the warm-ups (all prompts × K) go first through
// the same workers; in a rate sweep they are sent sequentially once, before the first rate.
// `sequential_client`: the connection to reuse in the sequential protocol (callers that split a run into
// several calls keep one keep-alive connection per endpoint, as a real client would). `check_first`: stop the
// run when this call's first reply shows the endpoint is unusable (see FirstReply in load_runner.cpp).
std::vector<PhaseResult> run_endpoint(const Endpoint& e, const std::vector<Prompt>& prompts,
                                      const LoadConfig& load, const RequestSpec& spec,
                                      std::chrono::steady_clock::time_point bench_start, Progress& progress,
                                      HttpClient* sequential_client = nullptr, bool check_first = true);

}  // namespace r1::bench
