#pragma once
// The machine-readable report (--json FILE). Every raw sample (warm-ups included, flagged) and the summaries,
// so any statistic can be recomputed. Bump kSchemaVersion on any change that breaks a reader.
#include <nlohmann/json.hpp>
#include <string>

#include "bench/bench_run.h"

namespace r1::bench {

inline constexpr int kSchemaVersion = 1;

nlohmann::json stats_json(const Stats& s);
nlohmann::json sample_json(const Sample& s);
nlohmann::json summary_json(const PhaseSummary& s);
nlohmann::json report_json(const BenchRun& run);
void write_json_report(const std::string& path, const BenchRun& run);

}  // namespace r1::bench
