#pragma once
// One request's measurements: the raw sample the JSON report keeps and every statistic is computed from.
// Times are milliseconds; `start_ms` counts from the start of the benchmark.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace r1::bench {

struct Sample {
  std::string endpoint;
  std::string phase;  // the load level: "sequential", "concurrency=4", "rate=2"
  size_t prompt_index = 0;
  size_t run = 0;  // 0-based within warm-up runs or within measured runs
  bool warmup = false;

  double start_ms = 0;
  double latency_ms = 0;          // send → last byte
  std::optional<double> ttft_ms;  // send → first event carrying text
  std::vector<double> itl_ms;     // gaps between successive text events
  std::optional<double> tpot_ms;  // (latency − TTFT) / (output tokens − 1), when more than one token

  int64_t output_tokens = 0;            // usage.completion_tokens, else the number of text events
  std::optional<int64_t> input_tokens;  // usage.prompt_tokens
  bool usage_reported = false;
  int64_t reasoning_tokens = 0, answer_tokens = 0;
  std::string finish_reason;

  std::string error_kind;  // empty: success. connection, timeout, http_<status>, bad_reply, server_error,
                           // incomplete, no_output
  std::string error_message;

  std::optional<std::string> expected_answer, predicted_answer;  // GSM8K prompts only
  std::optional<bool> correct;

  bool ok() const { return error_kind.empty(); }
};

}  // namespace r1::bench
