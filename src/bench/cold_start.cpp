#include "bench/cold_start.h"

#include <fmt/format.h>

#include <thread>

#include "core/error.h"

namespace r1::bench {

namespace {

using clock = std::chrono::steady_clock;

// The model's state from GET /v1/models/{id}; fails naming the endpoint when the server does not report one.
std::string model_state(HttpClient& client, const Endpoint& e, double timeout_s) {
  HttpResponse r = client.get(e.url("/models/" + e.model), e.api_key, timeout_s);
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  if (!r.transport_ok || r.status != 200 || !doc.is_object() || !doc.contains("state") ||
      !doc["state"].is_string())
    fail(
        "--cold-start: endpoint {}: GET {} gave no model \"state\" (HTTP {}); a cold start can only be "
        "measured on a server that reports whether a model is loaded and unloads it on keep_alive 0 "
        "(r1serve serve)",
        e.name, e.url("/models/" + e.model), r.status);
  return doc["state"].get<std::string>();
}

// Asks the server to unload the model once a one-token request is done, and waits until it has.
void unload(HttpClient& client, const Endpoint& e, const RequestSpec& spec, const Prompt& p,
            double timeout_s) {
  if (model_state(client, e, timeout_s) != "unloaded") {
    nlohmann::json body = request_body(e, spec, p.text);
    body["max_tokens"] = 1;
    body["stream"] = false;
    body.erase("stream_options");
    body["keep_alive"] = 0;
    HttpResponse r = client.post_json_stream(spec.chat ? e.url("/chat/completions") : e.url("/completions"),
                                             body.dump(), e.api_key, timeout_s, [](std::string_view) {});
    if (!r.transport_ok || r.status != 200)
      fail("--cold-start: endpoint {}: the request with keep_alive 0 failed (HTTP {}): {}", e.name, r.status,
           r.body.substr(0, 300));
  }
  auto end = clock::now() + std::chrono::duration<double>(timeout_s);
  while (model_state(client, e, timeout_s) != "unloaded") {
    if (clock::now() > end)
      fail("--cold-start: endpoint {}: model {} was still loaded {} s after a request with keep_alive 0",
           e.name, e.model, timeout_s);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// The cold request: retried on 503 while the model loads; times count from the first attempt.
Sample send_cold(HttpClient& client, const Endpoint& e, const RequestSpec& spec, const Prompt& p,
                 clock::time_point bench_start) {
  Sample first = send_request(client, e, spec, p, bench_start);
  Sample s = first;
  auto give_up = clock::now() + std::chrono::duration<double>(spec.timeout_s);
  while (s.error_kind == "http_503" && clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    s = send_request(client, e, spec, p, bench_start);
  }
  double waited = s.start_ms - first.start_ms;
  s.start_ms = first.start_ms;
  s.latency_ms += waited;
  if (s.ttft_ms) *s.ttft_ms += waited;
  return s;
}

}  // namespace

std::vector<PhaseResult> run_cold_start(const Endpoint& e, const std::vector<Prompt>& prompts,
                                        const LoadConfig& load, const RequestSpec& spec,
                                        clock::time_point bench_start, Progress& progress,
                                        double unload_timeout_s) {
  PhaseResult cold{"cold", LoadMode::kSequential, {}, 0}, warm{"warm", LoadMode::kSequential, {}, 0};
  HttpClient client;
  for (size_t r = 0; r < load.runs; ++r)
    for (size_t i = 0; i < prompts.size(); ++i) {
      progress.set_label(fmt::format("{} cold start", e.name));
      unload(client, e, spec, prompts[i], unload_timeout_s);
      for (PhaseResult* phase : {&cold, &warm}) {
        Sample s = phase == &cold ? send_cold(client, e, spec, prompts[i], bench_start)
                                  : send_request(client, e, spec, prompts[i], bench_start);
        s.endpoint = e.name;
        s.phase = phase->phase;
        s.prompt_index = i;
        s.run = r;
        progress.request_done(s.ok());
        phase->samples.push_back(std::move(s));
      }
    }
  return {std::move(cold), std::move(warm)};
}

}  // namespace r1::bench
