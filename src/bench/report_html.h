#pragma once
// The HTML report (--html FILE): one self-contained page — inline CSS and SVG, no script, no network — with
// box plots of latency, TTFT and ITL per endpoint and load level, and the summary, latency and cost tables.
#include <string>

#include "bench/bench_run.h"

namespace r1::bench {

std::string html_report(const BenchRun& run);
void write_html_report(const std::string& path, const BenchRun& run);

}  // namespace r1::bench
