// `r1serve bench` against a real `r1serve serve` (stories260K) on 127.0.0.1. The JSON report is checked
// against itself: counts = prompts × runs, warm-ups out of the statistics, every statistic recomputed here
// from the raw samples, TTFT ≤ latency for every sample.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "serve_process.h"
#include "support/test_support.h"

namespace r1::bench::test {
namespace {

using json = nlohmann::json;
using r1::test::run_r1serve;
using r1::test::shared_path;
using r1::test::TempDir;

constexpr size_t kPrompts = 3, kWarmup = 1, kRuns = 2;

// Written independently of src/bench/stats.cpp: numpy's default "linear" percentile.
double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double pos = q * double(v.size() - 1);
  size_t i = size_t(pos);
  if (i + 1 >= v.size()) return v.back();
  return v[i] * (1 - (pos - double(i))) + v[i + 1] * (pos - double(i));
}

void expect_close(double got, double want, const std::string& what) {
  EXPECT_NEAR(got, want, 1e-9 * std::max(1.0, std::fabs(want))) << what;
}

void expect_stats(const json& s, const std::vector<double>& values, const std::string& what) {
  ASSERT_EQ(s["count"].get<size_t>(), values.size()) << what;
  if (values.empty()) return;
  double mean = 0, var = 0;
  for (double v : values) mean += v;
  mean /= double(values.size());
  for (double v : values) var += (v - mean) * (v - mean);
  expect_close(s["mean"], mean, what + ".mean");
  expect_close(s["stddev"], std::sqrt(var / double(values.size())), what + ".stddev");
  expect_close(s["min"], *std::min_element(values.begin(), values.end()), what + ".min");
  expect_close(s["max"], *std::max_element(values.begin(), values.end()), what + ".max");
  for (auto [key, q] :
       {std::pair{"p25", 0.25}, {"p50", 0.5}, {"p75", 0.75}, {"p90", 0.9}, {"p95", 0.95}, {"p99", 0.99}})
    expect_close(s[key], percentile(values, q), what + "." + key);
}

// Every summary row against the samples of its endpoint and phase.
void check_report(const json& report, size_t prompts, size_t warmup, size_t runs) {
  ASSERT_EQ(report["schema_version"], 1);
  for (const json& sum : report["summary"]) {
    std::string ep = sum["endpoint"], phase = sum["phase"];
    SCOPED_TRACE(ep + " " + phase);
    std::vector<double> latency, ttft, itl, tpot, out_len, in_len, tps;
    std::vector<std::pair<double, double>> intervals;
    size_t n_warm = 0, n_meas = 0, n_ok = 0;
    double reasoning = 0, answer = 0, out_total = 0;
    for (const json& s : report["samples"]) {
      if (s["endpoint"] != ep || s["phase"] != phase) continue;
      // TTFT ≤ latency and the gaps fit inside the reply, for every sample (warm-ups too).
      if (!s["ttft_ms"].is_null()) {
        EXPECT_LE(s["ttft_ms"].get<double>(), s["latency_ms"].get<double>());
        double gaps = 0;
        for (double g : s["itl_ms"]) gaps += g;
        EXPECT_LE(s["ttft_ms"].get<double>() + gaps, s["latency_ms"].get<double>() + 1e-6);
      }
      EXPECT_EQ(s["reasoning_tokens"].get<int64_t>() + s["answer_tokens"].get<int64_t>(),
                s["output_tokens"].get<int64_t>());
      if (s["warmup"]) {
        ++n_warm;
        continue;
      }
      ++n_meas;
      intervals.emplace_back(s["start_ms"], s["start_ms"].get<double>() + s["latency_ms"].get<double>());
      EXPECT_TRUE(s["ok"].get<bool>()) << s["error_message"];
      if (!s["ok"]) continue;
      ++n_ok;
      EXPECT_TRUE(s["usage_reported"].get<bool>()) << "r1serve sends usage with stream_options.include_usage";
      latency.push_back(s["latency_ms"]);
      ttft.push_back(s["ttft_ms"]);
      for (double g : s["itl_ms"]) itl.push_back(g);
      if (!s["tpot_ms"].is_null()) tpot.push_back(s["tpot_ms"]);
      out_len.push_back(s["output_tokens"]);
      in_len.push_back(s["input_tokens"]);
      tps.push_back(s["output_tokens"].get<double>() / (s["latency_ms"].get<double>() / 1000));
      reasoning += s["reasoning_tokens"].get<double>();
      answer += s["answer_tokens"].get<double>();
      out_total += s["output_tokens"].get<double>();
    }
    EXPECT_EQ(n_meas, prompts * runs);
    if (phase == "sequential" || phase.rfind("concurrency", 0) == 0 ||
        phase.rfind("rate", 0) == 0 && warmup > 0)
      EXPECT_EQ(n_warm, prompts * warmup);
    EXPECT_EQ(sum["requests"]["measured"], n_meas);
    EXPECT_EQ(sum["requests"]["ok"], n_ok);
    expect_stats(sum["latency_ms"], latency, "latency");
    expect_stats(sum["ttft_ms"], ttft, "ttft");
    expect_stats(sum["itl_ms"], itl, "itl");
    expect_stats(sum["tpot_ms"], tpot, "tpot");
    expect_stats(sum["output_tokens"], out_len, "output_tokens");
    expect_stats(sum["input_tokens"], in_len, "input_tokens");
    expect_stats(sum["output_tokens_per_s_per_request"], tps, "tps");
    expect_close(sum["tokens"]["reasoning"], reasoning, "reasoning");
    expect_close(sum["tokens"]["answer"], answer, "answer");
    // Duration: union of in-flight intervals (closed loop) or first send → last reply (rate).
    std::sort(intervals.begin(), intervals.end());
    double busy = 0, lo = intervals[0].first, hi = intervals[0].second;
    for (auto [a, b] : intervals) {
      if (a > hi) {
        busy += hi - lo;
        lo = a;
      }
      hi = std::max(hi, b);
    }
    busy += hi - lo;
    double span = intervals.back().second - intervals.front().first;
    for (auto [a, b] : intervals) span = std::max(span, b - intervals.front().first);
    double duration = (phase.rfind("rate", 0) == 0 ? span : busy) / 1000;
    expect_close(sum["duration_s"], duration, "duration_s");
    expect_close(sum["throughput"]["requests_per_s"], double(n_ok) / duration, "requests_per_s");
    expect_close(sum["throughput"]["output_tokens_per_s"], out_total / duration, "output_tokens_per_s");
  }
}

class BenchE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    R1_REQUIRE_SHARED();
    std::string why = serve_unavailable_reason();
    if (!why.empty()) GTEST_SKIP() << why;
    // The R1 template, so that chat requests start inside <think> and the server splits reasoning_content.
    server_ = std::make_unique<ServeProcess>(std::vector<std::string>{
        "--model", shared_path("models/stories260K-hf"), "--served-model-name", "stories", "--chat-template",
        shared_path("chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"), "--threads", "1"});
    ASSERT_TRUE(server_->ready()) << server_->error();
  }

  std::vector<std::string> bench_args(const TempDir& d, std::vector<std::string> extra) {
    std::vector<std::string> a{"bench",
                               "--dataset",
                               shared_path("datasets/gsm8k/test.jsonl"),
                               "--num-prompts",
                               std::to_string(kPrompts),
                               "--max-tokens",
                               "12",
                               "--temperature",
                               "0",
                               "--seed",
                               "7",
                               "--json",
                               d.file("r.json"),
                               "--timeout",
                               "120"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  std::unique_ptr<ServeProcess> server_;
};

TEST_F(BenchE2E, SequentialProtocolTwoEndpointsCompletionApi) {
  TempDir d;
  auto r = run_r1serve(bench_args(d, {"--endpoint", "first=" + server_->base_url(), "--endpoint",
                                      "second=" + server_->base_url() + "/v1/", "--api", "completion",
                                      "--warmup", std::to_string(kWarmup), "--runs", std::to_string(kRuns),
                                      "--price-per-hour", "1.5", "--html", d.file("r.html")}));
  ASSERT_EQ(r.exit_code, 0) << r.err << "\nserver log:\n" << server_->log();
  ASSERT_EQ(server_->death_report(), "");
  json report = r1::test::read_json(d.file("r.json"));
  ASSERT_EQ(report["summary"].size(), 2u);
  ASSERT_EQ(report["samples"].size(), 2 * kPrompts * (kWarmup + kRuns));
  for (const json& e : report["endpoints"])
    EXPECT_EQ(e["model"], "stories") << "the model comes from /v1/models";
  check_report(report, kPrompts, kWarmup, kRuns);
  // GSM8K prompts are graded (a 260K-parameter story model gets them wrong; the column is a sanity check).
  EXPECT_EQ(report["summary"][0]["gsm8k"]["graded"], kPrompts * kRuns);
  EXPECT_TRUE(report["summary"][0]["cost"]["instance_usd_per_1m_output_tokens"].is_number());
  EXPECT_NE(r.out.find("first"), std::string::npos);
  EXPECT_NE(r.out.find("Latency (ms"), std::string::npos);
  std::string html = r1::test::read_file(d.file("r.html"));
  EXPECT_NE(html.find("<svg"), std::string::npos);
}

TEST_F(BenchE2E, ChatWithConcurrencySplitsReasoning) {
  TempDir d;
  auto r = run_r1serve(bench_args(d, {"--endpoint", "r1serve=" + server_->base_url(), "--api", "chat",
                                      "--concurrency", "2", "--warmup", "1", "--runs", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err << "\nserver log:\n" << server_->log();
  ASSERT_EQ(server_->death_report(), "");
  json report = r1::test::read_json(d.file("r.json"));
  ASSERT_EQ(report["summary"].size(), 1u);
  EXPECT_EQ(report["summary"][0]["phase"], "concurrency=2");
  check_report(report, kPrompts, 1, 2);
  // The R1 template opens <think>, and stories260K never closes it: everything streams as reasoning_content.
  EXPECT_GT(report["summary"][0]["tokens"]["reasoning"].get<double>(), 0) << r.err;
}

TEST_F(BenchE2E, InterleavedEndpointsTakeTurnsPromptByPrompt) {
  TempDir d;
  auto r = run_r1serve(
      bench_args(d, {"--endpoint", "a=" + server_->base_url(), "--endpoint", "b=" + server_->base_url(),
                     "--api", "completion", "--warmup", "1", "--runs", "2", "--interleave"}));
  ASSERT_EQ(r.exit_code, 0) << r.err << "\nserver log:\n" << server_->log();
  ASSERT_EQ(server_->death_report(), "");
  json report = r1::test::read_json(d.file("r.json"));
  ASSERT_EQ(report["summary"].size(), 2u);
  check_report(report, kPrompts, 1, 2);
  // In send order: prompt 0 on a (3 requests), prompt 0 on b, prompt 1 on a, ...
  std::vector<json> samples(report["samples"].begin(), report["samples"].end());
  std::sort(samples.begin(), samples.end(), [](const json& x, const json& y) {
    return x["start_ms"].get<double>() < y["start_ms"].get<double>();
  });
  for (size_t i = 0; i < samples.size(); ++i) {
    size_t turn = i / 3;
    EXPECT_EQ(samples[i]["endpoint"], turn % 2 == 0 ? "a" : "b") << i;
    EXPECT_EQ(samples[i]["prompt_index"], turn / 2) << i;
  }
}

TEST_F(BenchE2E, ColdStartUnloadsBeforeEachColdRequest) {
  TempDir d;
  auto r = run_r1serve(
      bench_args(d, {"--endpoint", "r1serve=" + server_->base_url(), "--api", "completion", "--runs",
                     std::to_string(kRuns), "--cold-start", "--html", d.file("r.html")}));
  ASSERT_EQ(r.exit_code, 0) << r.err << "\nserver log:\n" << server_->log();
  json report = r1::test::read_json(d.file("r.json"));
  ASSERT_EQ(report["summary"].size(), 2u);
  EXPECT_EQ(report["summary"][0]["phase"], "cold");
  EXPECT_EQ(report["summary"][1]["phase"], "warm");
  ASSERT_EQ(report["samples"].size(), 2 * kPrompts * kRuns);
  for (const json& s : report["samples"]) {
    EXPECT_TRUE(s["ok"].get<bool>()) << s;
    EXPECT_FALSE(s["warmup"].get<bool>());
  }
  // Every cold request came after an idle unload (keep_alive 0) and loaded the model again.
  std::string log = server_->log();
  size_t unloads = 0;
  for (size_t p = log.find("model `stories` unloaded (idle)"); p != std::string::npos;
       p = log.find("model `stories` unloaded (idle)", p + 1))
    ++unloads;
  EXPECT_EQ(unloads, kPrompts * kRuns) << log;
  EXPECT_NE(r.out.find("cold"), std::string::npos) << r.out;
  EXPECT_NE(r1::test::read_file(d.file("r.html")).find("cold"), std::string::npos);
}

TEST_F(BenchE2E, PoissonRateSweep) {
  TempDir d;
  auto r = run_r1serve(
      bench_args(d, {"--endpoint", "r1serve=" + server_->base_url(), "--api", "completion", "--rate",
                     "20,inf", "--warmup", "0", "--runs", "2", "--duration-limit", "60"}));
  ASSERT_EQ(r.exit_code, 0) << r.err << "\nserver log:\n" << server_->log();
  ASSERT_EQ(server_->death_report(), "");
  json report = r1::test::read_json(d.file("r.json"));
  ASSERT_EQ(report["summary"].size(), 2u);
  EXPECT_EQ(report["summary"][0]["phase"], "rate=20");
  EXPECT_EQ(report["summary"][1]["phase"], "rate=inf");
  check_report(report, kPrompts, 0, 2);
}

TEST_F(BenchE2E, NonOpenAiReplyNamesTheEndpoint) {
  // /metrics is the server's Prometheus page: "…/metrics/v1/completions" is not an OpenAI route.
  TempDir d;
  auto r = run_r1serve(bench_args(d, {"--endpoint", "odd=" + server_->base_url() + "/metrics", "--model",
                                      "stories", "--api", "completion", "--warmup", "0", "--runs", "1"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("endpoint odd"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/metrics/v1/completions"), std::string::npos) << r.err;
}

// These need no server: nothing listens on port 1, and the dataset is checked before any request.
TEST(BenchCli, UnreachableEndpointIsAClearError) {
  R1_REQUIRE_SHARED();
  auto r = run_r1serve({"bench", "--endpoint", "down=http://127.0.0.1:1", "--dataset",
                        shared_path("datasets/gsm8k/test.jsonl"), "--num-prompts", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("endpoint down: GET http://127.0.0.1:1/v1/models failed"), std::string::npos) << r.err;
}

TEST(BenchCli, MalformedDatasetLineNamesFileAndLine) {
  TempDir d;
  std::string path = d.file("bad.jsonl");
  std::ofstream(path) << "{\"question\": \"fine\"}\n{\"question\": \n";
  auto r = run_r1serve({"bench", "--endpoint", "down=http://127.0.0.1:1", "--dataset", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(path + ":2: not valid JSON"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace r1::bench::test
