#pragma once
// The terminal report: an overview table (throughput, lengths, errors, reasoning split, GSM8K), a latency
// table (avg/p50/p90/p95/p99/min/max/stddev of latency, TTFT, ITL, TPOT) and, when prices were given, costs.
#include <string>
#include <vector>

#include "bench/bench_run.h"

namespace r1::bench {

// A plain-text table: columns sized to their widest cell, text left-aligned, numbers right-aligned.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

// One overview row for a phase, for the running report printed as each load level finishes.
std::string format_phase_line(const PhaseSummary& s);

std::string format_report(const std::vector<PhaseSummary>& summaries, bool with_cost);

// Shared with the HTML report: "12.3", "-" for no data.
std::string fmt_num(double v, int decimals);
std::string fmt_usd(const std::optional<double>& v);

}  // namespace r1::bench
