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
  ServerMetrics::Finished done;
  done.reason = FinishReason::length;
  done.prompt_tokens = 10;
  done.completion_tokens = 5;
  done.max_tokens = 16;
  done.queue_s = 0.002;
  done.ttft_s = 0.03;
  done.e2e_s = 1.2;
  done.prefill_s = 0.02;
  done.decode_s = 1.1;
  m.request_finished(done);
  ServerMetrics::Finished aborted;  // never scheduled: no queue, prefill or decode time
  aborted.reason = FinishReason::abort;
  aborted.prompt_tokens = 4;
  aborted.max_tokens = 16;
  aborted.e2e_s = 0.1;
  m.request_finished(aborted);
  m.inter_token(0.02);
  std::string t = m.render({{"my \"model\"", s}}, {});
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
  // The per-request histograms the vLLM dashboard's length, prefill/decode and max-tokens panels read:
  // token counts in vLLM's 1-2-5 buckets, times in its request-latency buckets.
  for (const char* h : {"request_prompt_tokens", "request_generation_tokens",
                        "request_max_num_generation_tokens", "request_prefill_time_seconds",
                        "request_decode_time_seconds", "request_time_per_output_token_seconds"})
    EXPECT_TRUE(has_line(t, std::string("# TYPE vllm:") + h + " histogram")) << h;
  EXPECT_TRUE(has_line(t, "vllm:request_prompt_tokens_bucket{" + l + ",le=\"5\"} 1")) << t;
  EXPECT_TRUE(has_line(t, "vllm:request_prompt_tokens_bucket{" + l + ",le=\"10\"} 2"));
  EXPECT_TRUE(has_line(t, "vllm:request_generation_tokens_sum{" + l + "} 5"));
  EXPECT_TRUE(has_line(t, "vllm:request_max_num_generation_tokens_sum{" + l + "} 32"));
  EXPECT_TRUE(has_line(t, "vllm:request_prefill_time_seconds_count{" + l + "} 1"));
  EXPECT_TRUE(has_line(t, "vllm:request_decode_time_seconds_bucket{" + l + ",le=\"1.5\"} 1"));
  // TPOT = decode / (tokens - 1) = 1.1 / 4 = 0.275.
  EXPECT_TRUE(has_line(t, "vllm:request_time_per_output_token_seconds_bucket{" + l + ",le=\"0.2\"} 0"));
  EXPECT_TRUE(has_line(t, "vllm:request_time_per_output_token_seconds_bucket{" + l + ",le=\"0.3\"} 1"));
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

namespace r1::server {
namespace {
TEST(Metrics, OneTwoFiveBucketsStopAtTheLimit) {
  EXPECT_EQ(buckets_1_2_5(512), (std::vector<double>{1, 2, 5, 10, 20, 50, 100, 200, 500}));
  EXPECT_EQ(buckets_1_2_5(1000), (std::vector<double>{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}));
}
}  // namespace
}  // namespace r1::server
