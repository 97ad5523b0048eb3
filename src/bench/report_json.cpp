#include "bench/report_json.h"

#include <fstream>

#include "core/error.h"

namespace r1::bench {

namespace {

using json = nlohmann::json;

template <typename T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

json stats_json(const Stats& s) {
  json j = {{"count", s.count}};
  for (auto [name, v] : {std::pair{"mean", s.mean},
                         {"stddev", s.stddev},
                         {"min", s.min},
                         {"max", s.max},
                         {"p25", s.p25},
                         {"p50", s.p50},
                         {"p75", s.p75},
                         {"p90", s.p90},
                         {"p95", s.p95},
                         {"p99", s.p99}})
    j[name] = s.count ? json(v) : json(nullptr);
  return j;
}

json sample_json(const Sample& s) {
  return {{"endpoint", s.endpoint},
          {"phase", s.phase},
          {"prompt_index", s.prompt_index},
          {"run", s.run},
          {"warmup", s.warmup},
          {"ok", s.ok()},
          {"error_kind", s.ok() ? json(nullptr) : json(s.error_kind)},
          {"error_message", s.ok() ? json(nullptr) : json(s.error_message)},
          {"start_ms", s.start_ms},
          {"latency_ms", s.latency_ms},
          {"ttft_ms", opt(s.ttft_ms)},
          {"itl_ms", s.itl_ms},
          {"tpot_ms", opt(s.tpot_ms)},
          {"input_tokens", opt(s.input_tokens)},
          {"output_tokens", s.output_tokens},
          {"usage_reported", s.usage_reported},
          {"reasoning_tokens", s.reasoning_tokens},
          {"answer_tokens", s.answer_tokens},
          {"finish_reason", s.finish_reason},
          {"expected_answer", opt(s.expected_answer)},
          {"predicted_answer", opt(s.predicted_answer)},
          {"correct", opt(s.correct)}};
}

json summary_json(const PhaseSummary& s) {
  const Throughput& t = s.throughput;
  const Cost& c = s.cost;
  json gsm8k = nullptr;
  if (s.gsm8k_graded)
    gsm8k = {{"graded", s.gsm8k_graded},
             {"correct", s.gsm8k_correct},
             {"accuracy", double(s.gsm8k_correct) / double(s.gsm8k_graded)}};
  return {{"endpoint", s.endpoint},
          {"model", s.model},
          {"phase", s.phase},
          {"requests",
           {{"measured", s.measured},
            {"ok", s.ok},
            {"not_sent", s.not_sent},
            {"errors", s.errors},
            {"error_examples", s.error_examples}}},
          {"duration_s", s.duration_s},
          {"latency_ms", stats_json(s.latency_ms)},
          {"ttft_ms", stats_json(s.ttft_ms)},
          {"itl_ms", stats_json(s.itl_ms)},
          {"tpot_ms", stats_json(s.tpot_ms)},
          {"output_tokens_per_s_per_request", stats_json(s.output_tps_per_request)},
          {"input_tokens", stats_json(s.input_tokens)},
          {"output_tokens", stats_json(s.output_tokens)},
          {"throughput",
           {{"requests_per_s", t.requests_per_s},
            {"output_tokens_per_s", t.output_tokens_per_s},
            {"total_input_tokens", t.total_input_tokens},
            {"total_output_tokens", t.total_output_tokens}}},
          {"tokens", {{"reasoning", s.reasoning_tokens}, {"answer", s.answer_tokens}}},
          {"gsm8k", gsm8k},
          {"cost",
           {{"instance_usd_per_1m_output_tokens", opt(c.instance_usd_per_1m_output)},
            {"instance_usd_per_request", opt(c.instance_usd_per_request)},
            {"token_usd_per_request", opt(c.token_usd_per_request)},
            {"token_usd_per_1m_output_tokens", opt(c.token_usd_per_1m_output)},
            {"token_usd_per_1m_tokens", opt(c.token_usd_per_1m_tokens)}}}};
}

json report_json(const BenchRun& run) {
  json endpoints = json::array();
  for (const auto& e : run.endpoints)
    endpoints.push_back({{"name", e.name}, {"url", e.base_url}, {"model", e.model}});
  json samples = json::array(), summaries = json::array();
  for (const auto& p : run.phases)
    for (const auto& s : p.samples) samples.push_back(sample_json(s));
  for (const auto& s : run.summaries) summaries.push_back(summary_json(s));
  return {
      {"schema_version", kSchemaVersion},
      {"tool", "r1serve bench"},
      {"started_at", run.started_at},
      {"wall_s", run.wall_s},
      {"methods",
       {{"percentile", "linear interpolation between closest ranks (numpy.percentile default)"},
        {"stddev", "population (ddof=0)"},
        {"statistics_over", "successful measured requests; warm-up samples excluded"},
        {"itl", "gaps between successive streamed events that carry text, pooled over requests"},
        {"duration", "closed loop: union of measured in-flight intervals; rate: first send to last reply"}}},
      {"config", run.config},
      {"endpoints", endpoints},
      {"summary", summaries},
      {"samples", samples}};
}

void write_json_report(const std::string& path, const BenchRun& run) {
  std::ofstream f(path);
  if (!f) fail("--json {}: cannot open for writing", path);
  f << report_json(run).dump(1) << '\n';
  if (!f) fail("--json {}: write failed", path);
}

}  // namespace r1::bench
