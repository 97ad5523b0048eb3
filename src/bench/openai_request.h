#pragma once
// One streamed completion request to an OpenAI-compatible endpoint, timed from the bytes as they arrive.
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>

#include "bench/dataset.h"
#include "bench/endpoint.h"
#include "bench/http_client.h"
#include "bench/sample.h"

namespace r1::bench {

struct RequestSpec {
  bool chat = true;  // /v1/chat/completions with one user message; false: /v1/completions with the raw prompt
  int64_t max_tokens = 256;
  std::optional<double> temperature;
  std::optional<int64_t> seed;
  nlohmann::json extra_body = nlohmann::json::object();  // merged into every request body last
  double timeout_s = 600;
};

// The request body: stream with stream_options.include_usage so that the server reports token counts.
nlohmann::json request_body(const Endpoint& e, const RequestSpec& spec, const std::string& prompt);

// Sends the prompt and fills the timing, token and error fields of a Sample (the caller sets endpoint, phase,
// prompt_index, run and warmup). Never throws for anything the server does: failures become error_kind.
Sample send_request(HttpClient& client, const Endpoint& e, const RequestSpec& spec, const Prompt& prompt,
                    std::chrono::steady_clock::time_point bench_start);

}  // namespace r1::bench
