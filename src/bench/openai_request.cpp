#include "bench/openai_request.h"

#include <fmt/format.h>

#include "bench/gsm8k.h"
#include "bench/openai_stream.h"
#include "bench/reply_excerpt.h"

namespace r1::bench {

namespace {

using clock = std::chrono::steady_clock;

double ms_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// "HTTP 400: <the OpenAI error message>" or the body's first bytes.
std::string http_error_message(const HttpResponse& r) {
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  if (doc.is_object() && doc.contains("error")) {
    const auto& err = doc["error"];
    if (err.is_object() && err.contains("message") && err["message"].is_string())
      return fmt::format("HTTP {}: {}", r.status, reply_excerpt(err["message"].get<std::string>()));
    if (err.is_string()) return fmt::format("HTTP {}: {}", r.status, reply_excerpt(err.get<std::string>()));
  }
  return fmt::format("HTTP {}: {}", r.status, reply_excerpt(r.body));
}

void set_error(Sample& s, std::string kind, std::string message) {
  s.error_kind = std::move(kind);
  s.error_message = std::move(message);
}

}  // namespace

nlohmann::json request_body(const Endpoint& e, const RequestSpec& spec, const std::string& prompt) {
  nlohmann::json b = {{"model", e.model}, {"max_tokens", spec.max_tokens}, {"stream", true}};
  b["stream_options"] = {{"include_usage", true}};
  if (spec.chat)
    b["messages"] = nlohmann::json::array({{{"role", "user"}, {"content", prompt}}});
  else
    b["prompt"] = prompt;
  if (spec.temperature) b["temperature"] = *spec.temperature;
  if (spec.seed) b["seed"] = *spec.seed;
  b.update(spec.extra_body);
  return b;
}

Sample send_request(HttpClient& client, const Endpoint& e, const RequestSpec& spec, const Prompt& prompt,
                    clock::time_point bench_start) {
  Sample s;
  std::string url = e.url(spec.chat ? "/chat/completions" : "/completions");
  std::string body = request_body(e, spec, prompt.text).dump();
  OpenAiStream stream;
  clock::time_point t0 = clock::now();
  SseParser sse([&](const SseEvent& ev) { stream.on_event(ev, ms_between(t0, clock::now())); });
  HttpResponse r = client.post_json_stream(url, body, e.api_key, spec.timeout_s,
                                           [&](std::string_view bytes) { sse.feed(bytes); });
  clock::time_point t1 = clock::now();
  sse.finish();
  const StreamResult& res = stream.finish();
  s.start_ms = ms_between(bench_start, t0);
  s.latency_ms = ms_between(t0, t1);

  if (r.status == 0) {
    set_error(s, r.timed_out ? "timeout" : "connection", fmt::format("POST {}: {}", url, r.transport_error));
    return s;
  }
  if (r.status < 200 || r.status >= 300) {
    set_error(s, fmt::format("http_{}", r.status), fmt::format("POST {}: {}", url, http_error_message(r)));
    return s;
  }
  if (sse.events_dispatched() == 0) {
    set_error(s, r.transport_ok ? "bad_reply" : (r.timed_out ? "timeout" : "connection"),
              fmt::format("POST {}: HTTP {} ({}) but no SSE \"data:\" events, so not an OpenAI stream: {}",
                          url, r.status, r.content_type.empty() ? "no content type" : r.content_type,
                          reply_excerpt(r.body)));
    return s;
  }

  // Token accounting happens even for failures below: the JSON keeps what arrived.
  s.finish_reason = res.finish_reason.value_or("");
  s.usage_reported = res.completion_tokens.has_value();
  s.input_tokens = res.prompt_tokens;
  int64_t events = int64_t(res.token_times_ms.size());
  s.output_tokens = res.completion_tokens.value_or(events);
  // Each streamed text event is about one token (r1serve, vLLM and llama-server send one per token), so the
  // reasoning share is counted in events unless the server reports reasoning_tokens itself.
  s.reasoning_tokens = res.reasoning_tokens.value_or(int64_t(res.reasoning_events));
  s.reasoning_tokens = std::min(s.reasoning_tokens, s.output_tokens);
  s.answer_tokens = s.output_tokens - s.reasoning_tokens;
  if (!res.token_times_ms.empty()) s.ttft_ms = res.token_times_ms.front();
  for (size_t i = 1; i < res.token_times_ms.size(); ++i)
    s.itl_ms.push_back(res.token_times_ms[i] - res.token_times_ms[i - 1]);
  if (s.ttft_ms && s.output_tokens > 1) s.tpot_ms = (s.latency_ms - *s.ttft_ms) / double(s.output_tokens - 1);
  if (prompt.reference_answer) {
    s.expected_answer = prompt.reference_answer;
    s.predicted_answer = extract_final_number(res.answer);
    s.correct = s.predicted_answer && same_number(*s.predicted_answer, *prompt.reference_answer);
  }

  if (!res.error.empty()) {
    bool server = res.error.rfind("the server sent an error", 0) == 0;
    set_error(s, server ? "server_error" : "bad_reply", fmt::format("POST {}: {}", url, res.error));
  } else if (!r.transport_ok) {
    set_error(s, r.timed_out ? "timeout" : "connection",
              fmt::format("POST {}: the stream broke after {} events: {}", url, sse.events_dispatched(),
                          r.transport_error));
  } else if (!res.saw_done && !res.finish_reason) {
    set_error(s, "incomplete",
              fmt::format("POST {}: the stream ended with neither [DONE] nor a finish_reason", url));
  } else if (res.token_times_ms.empty()) {
    set_error(s, "no_output", fmt::format("POST {}: the reply carried no text, so there is no TTFT", url));
  }
  return s;
}

}  // namespace r1::bench
