// Cost arithmetic, the per-phase summary (warm-ups out, errors by kind, durations), the JSON schema, the
// terminal table and the HTML page, on samples built by hand so every expected figure is worked out here.
#include <gtest/gtest.h>

#include "bench/cost.h"
#include "bench/endpoint.h"
#include "bench/metrics.h"
#include "bench/report_html.h"
#include "bench/report_json.h"
#include "bench/report_table.h"
#include "bench/svg_boxplot.h"
#include "core/error.h"

namespace r1::bench {
namespace {

TEST(Cost, InstancePricingByHand) {
  // $3.60/h = $0.001/s. 100 output tok/s → $1e-5 per token → $10 per 1M. 2 req/s → $0.0005 per request.
  Throughput t;
  t.output_tokens_per_s = 100;
  t.requests_per_s = 2;
  Cost c = compute_cost(Pricing{3.6, std::nullopt, std::nullopt}, t);
  EXPECT_NEAR(*c.instance_usd_per_1m_output, 10.0, 1e-9);
  EXPECT_NEAR(*c.instance_usd_per_request, 0.0005, 1e-12);
  EXPECT_FALSE(c.token_usd_per_request.has_value());
}

TEST(Cost, TokenPricingByHand) {
  // 4 requests, 1000 input and 3000 output tokens in all, $0.5 / $1.5 per 1k: 0.5 + 4.5 = $5 in all,
  // $1.25 per request, $1500 per 1M output tokens, 5 / 4000 × 1e6 = $1250 per 1M tokens.
  Throughput t;
  t.n_requests = 4;
  t.total_input_tokens = 1000;
  t.total_output_tokens = 3000;
  t.input_known = true;
  Cost c = compute_cost(Pricing{std::nullopt, 0.5, 1.5}, t);
  EXPECT_NEAR(*c.token_usd_per_request, 1.25, 1e-12);
  EXPECT_NEAR(*c.token_usd_per_1m_output, 1500.0, 1e-9);
  EXPECT_NEAR(*c.token_usd_per_1m_tokens, 1250.0, 1e-9);
  EXPECT_FALSE(c.instance_usd_per_1m_output.has_value());
  // Without usage.prompt_tokens an input price cannot be applied: no per-request figure rather than a low
  // one.
  t.input_known = false;
  EXPECT_FALSE(compute_cost(Pricing{std::nullopt, 0.5, 1.5}, t).token_usd_per_request.has_value());
  // Zero throughput (every request failed) gives no instance figure instead of infinity.
  EXPECT_FALSE(
      compute_cost(Pricing{1.0, std::nullopt, std::nullopt}, Throughput{}).instance_usd_per_1m_output);
}

Sample make(double start, double latency, double ttft, std::vector<double> itl, int64_t out, bool warmup,
            std::string error = "") {
  Sample s;
  s.endpoint = "a";
  s.phase = "sequential";
  s.start_ms = start;
  s.latency_ms = latency;
  s.ttft_ms = ttft;
  s.itl_ms = std::move(itl);
  s.output_tokens = out;
  s.input_tokens = 10;
  s.usage_reported = true;
  s.reasoning_tokens = 1;
  s.answer_tokens = out - 1;
  s.warmup = warmup;
  s.error_kind = error;
  if (!error.empty()) s.error_message = "boom";
  return s;
}

PhaseResult hand_phase() {
  PhaseResult p{"sequential", LoadMode::kSequential, {}, 0};
  p.samples.push_back(make(0, 5000, 4000, {500}, 3, true));  // warm-up: must not show anywhere
  p.samples.push_back(make(5000, 100, 20, {40, 40}, 3, false));
  p.samples.push_back(make(5100, 200, 40, {80, 80}, 3, false));
  p.samples.push_back(make(5300, 300, 60, {120, 120}, 3, false));
  p.samples.push_back(make(5600, 50, 0, {}, 0, false, "http_500"));
  p.samples.back().ttft_ms.reset();
  return p;
}

TEST(Metrics, SummaryExcludesWarmupAndCountsErrors) {
  PhaseSummary s = summarize(hand_phase(), "a", "m", Pricing{});
  EXPECT_EQ(s.measured, 4u);
  EXPECT_EQ(s.ok, 3u);
  EXPECT_EQ(s.errors.at("http_500"), 1u);
  EXPECT_EQ(s.error_examples.at("http_500"), "boom");
  EXPECT_DOUBLE_EQ(s.latency_ms.mean, 200.0);
  EXPECT_DOUBLE_EQ(s.latency_ms.max, 300.0);  // the 5000 ms warm-up is out
  EXPECT_DOUBLE_EQ(s.ttft_ms.p50, 40.0);
  EXPECT_EQ(s.itl_ms.count, 6u);
  EXPECT_DOUBLE_EQ(s.itl_ms.mean, 80.0);
  // Back-to-back intervals 5000–5100–5300–5600 plus the failed 5600–5650: 650 ms busy.
  EXPECT_NEAR(s.duration_s, 0.65, 1e-12);
  EXPECT_NEAR(s.throughput.requests_per_s, 3 / 0.65, 1e-9);
  EXPECT_NEAR(s.throughput.output_tokens_per_s, 9 / 0.65, 1e-9);
  // Per-request output tok/s: 3/0.1, 3/0.2, 3/0.3 = 30, 15, 10 → median 15.
  EXPECT_NEAR(s.output_tps_per_request.p50, 15.0, 1e-9);
  EXPECT_DOUBLE_EQ(s.reasoning_tokens, 3.0);
  EXPECT_DOUBLE_EQ(s.answer_tokens, 6.0);
}

TEST(Metrics, BusySecondsMergesOverlaps) {
  EXPECT_NEAR(busy_seconds({{0, 100}, {50, 150}, {200, 300}}), 0.25, 1e-12);
  EXPECT_NEAR(busy_seconds({{200, 300}, {0, 1000}}), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(busy_seconds({}), 0.0);
}

TEST(Metrics, RateModeDurationIsTheSpan) {
  PhaseResult p = hand_phase();
  p.mode = LoadMode::kRate;
  p.samples.push_back(make(9000, 100, 10, {}, 1, false));
  EXPECT_NEAR(summarize(p, "a", "m", Pricing{}).duration_s, (9100 - 5000) / 1000.0, 1e-12);
}

BenchRun hand_run() {
  BenchRun run;
  run.started_at = "2026-01-01T00:00:00Z";
  run.config = {{"dataset", "x.jsonl"}, {"load", {"sequential"}}};
  Endpoint e = parse_endpoint("a<b>=http://127.0.0.1:1");
  e.model = "m";
  run.endpoints.push_back(e);
  run.phases.push_back(hand_phase());
  run.summaries.push_back(
      summarize(run.phases[0], e.name, e.model, Pricing{2.0, std::nullopt, std::nullopt}));
  run.has_pricing = true;
  return run;
}

TEST(ReportJson, SchemaHasEverySampleAndSummary) {
  nlohmann::json j = report_json(hand_run());
  EXPECT_EQ(j["schema_version"], kSchemaVersion);
  ASSERT_EQ(j["samples"].size(), 5u);
  const auto& s0 = j["samples"][0];
  for (const char* key : {"endpoint", "phase", "prompt_index", "run", "warmup", "ok", "error_kind",
                          "start_ms", "latency_ms", "ttft_ms", "itl_ms", "tpot_ms", "input_tokens",
                          "output_tokens", "reasoning_tokens", "answer_tokens", "finish_reason", "correct"})
    EXPECT_TRUE(s0.contains(key)) << key;
  EXPECT_TRUE(s0["warmup"].get<bool>());
  EXPECT_TRUE(j["samples"][4]["ttft_ms"].is_null());
  EXPECT_EQ(j["samples"][4]["error_kind"], "http_500");
  ASSERT_EQ(j["summary"].size(), 1u);
  const auto& sum = j["summary"][0];
  EXPECT_EQ(sum["requests"]["measured"], 4);
  EXPECT_EQ(sum["requests"]["errors"]["http_500"], 1);
  for (const char* m : {"latency_ms", "ttft_ms", "itl_ms", "tpot_ms"})
    for (const char* k : {"count", "mean", "stddev", "min", "max", "p50", "p90", "p95", "p99"})
      EXPECT_TRUE(sum[m].contains(k)) << m << "." << k;
  EXPECT_DOUBLE_EQ(sum["latency_ms"]["mean"].get<double>(), 200.0);
  EXPECT_TRUE(sum["cost"]["instance_usd_per_1m_output_tokens"].is_number());
  EXPECT_TRUE(sum["cost"]["token_usd_per_request"].is_null());
  EXPECT_TRUE(sum["gsm8k"].is_null());
}

TEST(ReportTable, AlignsColumnsAndShowsErrors) {
  std::string t = format_table({"name", "load", "value"}, {{"a", "x", "1.5"}, {"long-name", "y", "12.25"}});
  EXPECT_EQ(t,
            "name       load  value\n"
            "----------------------\n"
            "a          x       1.5\n"
            "long-name  y     12.25\n");
  std::string report = format_report(hand_run().summaries, true);
  EXPECT_NE(report.find("1 http_500"), std::string::npos) << report;
  EXPECT_NE(report.find("Cost"), std::string::npos);
  EXPECT_NE(report.find("http_500: boom"), std::string::npos);
}

TEST(ReportHtml, SelfContainedWithEscapedNamesAndThreePlots) {
  std::string h = html_report(hand_run());
  EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(h.find("a&lt;b&gt;"), std::string::npos);  // the endpoint name is escaped
  EXPECT_EQ(h.find("a<b>"), std::string::npos);
  size_t svgs = 0;
  for (size_t at = h.find("<svg"); at != std::string::npos; at = h.find("<svg", at + 1)) ++svgs;
  EXPECT_EQ(svgs, 3u);
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_EQ(h.find("http://www.w3.org/2000/svg"), h.find("xmlns=\"http://www.w3.org/2000/svg\"") + 7);
  for (const char* remote : {"src=\"http", "href=\"http", "@import", "url("})
    EXPECT_EQ(h.find(remote), std::string::npos) << remote;
}

TEST(BoxPlot, TukeyWhiskersByHand) {
  // 1..9 and 100: p25 h=2.25 → 3.25, p75 h=6.75 → 7.75, IQR 4.5, fences −3.5 and 14.5 → 100 is an outlier,
  // whiskers 1 and 9.
  BoxSummary b = box_summary({100, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  EXPECT_DOUBLE_EQ(b.q1, 3.25);
  EXPECT_DOUBLE_EQ(b.q3, 7.75);
  EXPECT_DOUBLE_EQ(b.median, 5.5);
  EXPECT_DOUBLE_EQ(b.whisker_lo, 1);
  EXPECT_DOUBLE_EQ(b.whisker_hi, 9);
  EXPECT_EQ(b.outliers, std::vector<double>{100});
}

TEST(Endpoint, ParsesNamesAndNormalisesTheBaseUrl) {
  Endpoint a = parse_endpoint("local=http://127.0.0.1:8080");
  EXPECT_EQ(a.name, "local");
  EXPECT_EQ(a.base_url, "http://127.0.0.1:8080/v1");
  EXPECT_EQ(a.url("/chat/completions"), "http://127.0.0.1:8080/v1/chat/completions");
  EXPECT_EQ(parse_endpoint("x=https://api.example.com/v1/").base_url, "https://api.example.com/v1");
  Endpoint bare = parse_endpoint("http://10.0.0.2:8000/");
  EXPECT_EQ(bare.name, "10.0.0.2:8000");
  EXPECT_EQ(bare.base_url, "http://10.0.0.2:8000/v1");
  EXPECT_EQ(parse_endpoint("q=http://h/x?a=b").name, "q");  // '=' after the scheme belongs to the URL
  EXPECT_THROW(parse_endpoint("local=127.0.0.1:8080"), r1::Error);
  EXPECT_THROW(parse_endpoint("=http://h"), r1::Error);
  EXPECT_THROW(check_unique_names({parse_endpoint("a=http://h"), parse_endpoint("a=http://g")}), r1::Error);
}

TEST(Endpoint, UnreachableServerNamesTheEndpoint) {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  Endpoint e = parse_endpoint("nobody=http://127.0.0.1:1");
  try {
    resolve_model(e, 5);
    FAIL() << "expected an error";
  } catch (const r1::Error& err) {
    std::string msg = err.what();
    EXPECT_NE(msg.find("endpoint nobody"), std::string::npos) << msg;
    EXPECT_NE(msg.find("http://127.0.0.1:1/v1/models"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace r1::bench
