#include "server/metrics.h"

#include <gtest/gtest.h>

namespace r1::server {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

TEST(Metrics, ExposesVllmNamesWithModelLabel) {
  ServerMetrics m("my \"model\"");
  EngineStats s;
  s.running = 3;
  s.waiting = 2;
  s.kv_usage = 0.25;
  s.prefix_cache_queries = 100;
  s.prefix_cache_hits = 40;
  m.tokens(10, 5);
  m.request_finished({FinishReason::length, 10, 5, 0.002, 0.03, 1.2});
  m.request_finished({FinishReason::abort, 4, 0, -1, -1, 0.1});
  m.inter_token(0.02);
  std::string t = m.render(s);
  const std::string l = "model_name=\"my \\\"model\\\"\"";
  EXPECT_TRUE(has_line(t, "vllm:num_requests_running{" + l + "} 3")) << t;
  EXPECT_TRUE(has_line(t, "vllm:num_requests_waiting{" + l + "} 2"));
  EXPECT_TRUE(has_line(t, "vllm:kv_cache_usage_perc{" + l + "} 0.25"));
  EXPECT_TRUE(has_line(t, "vllm:prefix_cache_queries_total{" + l + "} 100"));
  EXPECT_TRUE(has_line(t, "vllm:prefix_cache_hits_total{" + l + "} 40"));
  EXPECT_TRUE(has_line(t, "vllm:prompt_tokens_total{" + l + "} 10"));
  EXPECT_TRUE(has_line(t, "vllm:generation_tokens_total{" + l + "} 5"));
  EXPECT_TRUE(has_line(t, "vllm:request_success_total{" + l + ",finished_reason=\"length\"} 1"));
  EXPECT_TRUE(has_line(t, "vllm:request_success_total{" + l + ",finished_reason=\"abort\"} 1"));
  EXPECT_TRUE(has_line(t, "vllm:request_success_total{" + l + ",finished_reason=\"stop\"} 0"));
  EXPECT_TRUE(has_line(t, "# TYPE vllm:time_to_first_token_seconds histogram"));
  // TTFT 0.03 lands in le=0.04 and above, not in le=0.02
  EXPECT_TRUE(has_line(t, "vllm:time_to_first_token_seconds_bucket{" + l + ",le=\"0.02\"} 0"));
  EXPECT_TRUE(has_line(t, "vllm:time_to_first_token_seconds_bucket{" + l + ",le=\"0.04\"} 1"));
  EXPECT_TRUE(has_line(t, "vllm:time_to_first_token_seconds_bucket{" + l + ",le=\"+Inf\"} 1"));
  EXPECT_TRUE(has_line(t, "vllm:time_to_first_token_seconds_count{" + l + "} 1"));
  EXPECT_TRUE(has_line(t, "vllm:e2e_request_latency_seconds_count{" + l + "} 2"));
  EXPECT_TRUE(has_line(t, "vllm:request_queue_time_seconds_count{" + l + "} 1"));
  EXPECT_TRUE(has_line(t, "vllm:inter_token_latency_seconds_count{" + l + "} 1"));
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Histogram h({1, 2});
  for (double v : {0.5, 1.0, 1.5, 3.0}) h.observe(v);
  std::string out;
  h.render(out, "x", "a=\"b\"");
  EXPECT_NE(out.find("x_bucket{a=\"b\",le=\"1\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_bucket{a=\"b\",le=\"2\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("x_bucket{a=\"b\",le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(out.find("x_sum{a=\"b\"} 6\n"), std::string::npos);
}

}  // namespace
}  // namespace r1::server
