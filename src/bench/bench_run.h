#pragma once
// Everything one `r1serve bench` invocation produced: what was asked, the raw samples, the summaries.
// The reports (JSON, table, HTML) are views of this.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/endpoint.h"
#include "bench/load_runner.h"
#include "bench/metrics.h"

namespace r1::bench {

struct BenchRun {
  nlohmann::json config;   // the options, echoed for reproducibility (never the API key)
  std::string started_at;  // UTC, ISO 8601
  double wall_s = 0;
  std::vector<Endpoint> endpoints;
  std::vector<PhaseResult> phases;      // every endpoint's phases, in run order
  std::vector<PhaseSummary> summaries;  // one per entry of `phases`
  bool has_pricing = false;
};

}  // namespace r1::bench
