#include "server/api/openai/openai_format.h"

#include <chrono>
#include <random>

#include "server/api_error.h"

namespace r1::server {

using nlohmann::json;

std::string new_request_id(const char* prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{}{:016x}{:016x}", prefix, rng(), rng());
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ResponseHead make_head(Endpoint endpoint, const std::string& model) {
  ResponseHead h;
  h.endpoint = endpoint;
  h.id = new_request_id(endpoint == Endpoint::chat        ? "chatcmpl-"
                        : endpoint == Endpoint::responses ? "resp_"
                                                          : "cmpl-");
  h.created = unix_now();
  h.model = model;
  return h;
}

json usage_json(size_t prompt_tokens, size_t completion_tokens, size_t cached_tokens,
                size_t reasoning_tokens) {
  json u = {{"prompt_tokens", prompt_tokens},
            {"completion_tokens", completion_tokens},
            {"total_tokens", prompt_tokens + completion_tokens},
            {"completion_tokens_details", {{"reasoning_tokens", reasoning_tokens}}}};
  if (cached_tokens > 0) u["prompt_tokens_details"] = {{"cached_tokens", cached_tokens}};
  return u;
}

namespace {
json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(int(c));
  return b;
}
// OpenAI reports -9999.0 where a probability underflows; a JSON number must be finite.
double finite(float v) {
  return std::isfinite(v) ? double(v) : -9999.0;
}
}  // namespace

json chat_logprobs(const std::vector<LogprobEntry>& entries) {
  json content = json::array();
  for (const LogprobEntry& e : entries) {
    json top = json::array();
    for (const auto& [t, lp] : e.top)
      top.push_back({{"token", t}, {"logprob", finite(lp)}, {"bytes", bytes_of(t)}});
    content.push_back({{"token", e.token},
                       {"logprob", finite(e.logprob.value_or(0.f))},
                       {"bytes", bytes_of(e.token)},
                       {"top_logprobs", std::move(top)}});
  }
  return {{"content", std::move(content)}, {"refusal", nullptr}};
}

json completion_logprobs(const std::vector<LogprobEntry>& entries, size_t offset0, bool with_top) {
  json tokens = json::array(), lps = json::array(), tops = json::array(), offsets = json::array();
  size_t off = offset0;
  for (const LogprobEntry& e : entries) {
    tokens.push_back(e.token);
    lps.push_back(e.logprob ? json(finite(*e.logprob)) : json(nullptr));
    if (with_top) {
      if (!e.logprob) {
        tops.push_back(nullptr);
      } else {
        json m = json::object();
        for (const auto& [t, lp] : e.top) m[t] = finite(lp);
        tops.push_back(std::move(m));
      }
    }
    offsets.push_back(off);
    off += e.token.size();
  }
  return {{"tokens", std::move(tokens)},
          {"token_logprobs", std::move(lps)},
          {"top_logprobs", with_top ? std::move(tops) : json(nullptr)},
          {"text_offset", std::move(offsets)}};
}

json chat_tool_calls(const std::vector<serving::ToolCall>& calls, bool streamed, size_t first_index) {
  json out = json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    json c = {{"id", calls[i].id},
              {"type", "function"},
              {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments}}}};
    if (streamed) c["index"] = first_index + i;
    out.push_back(std::move(c));
  }
  return out;
}

json chat_choice(int index, const std::string& content, const std::optional<std::string>& reasoning,
                 bool reasoning_enabled, const json& logprobs, const std::string& finish_reason,
                 const json& tool_calls) {
  // With the reasoning split on, an answer cut inside the reasoning has no content at all: null, as vLLM
  // sends; so has an answer that is only tool calls, as OpenAI sends.
  const bool no_content = content.empty() && (reasoning_enabled || !tool_calls.empty());
  json msg = {{"role", "assistant"},
              {"content", no_content ? json(nullptr) : json(content)},
              {"refusal", nullptr},
              {"tool_calls", tool_calls}};
  if (reasoning_enabled) {
    json r = reasoning ? json(*reasoning) : json(nullptr);
    msg["reasoning_content"] = r;
    msg["reasoning"] = r;  // the newer name vLLM also sends
  }
  return {{"index", index},
          {"message", std::move(msg)},
          {"logprobs", logprobs},
          {"finish_reason", finish_reason}};
}

json completion_choice(int index, const std::string& text, const json& logprobs,
                       const std::string& finish_reason) {
  return {{"index", index}, {"text", text}, {"logprobs", logprobs}, {"finish_reason", finish_reason}};
}

json full_response(const ResponseHead& h, json choices, const json& usage) {
  return {{"id", h.id},
          {"object", h.endpoint == Endpoint::chat ? "chat.completion" : "text_completion"},
          {"created", h.created},
          {"model", h.model},
          {"system_fingerprint", kSystemFingerprint},
          {"choices", std::move(choices)},
          {"usage", usage}};
}

namespace {
json chunk_base(const ResponseHead& h, json choices, bool usage_field) {
  json j = {{"id", h.id},
            {"object", h.endpoint == Endpoint::chat ? "chat.completion.chunk" : "text_completion"},
            {"created", h.created},
            {"model", h.model},
            {"system_fingerprint", kSystemFingerprint},
            {"choices", std::move(choices)}};
  if (usage_field) j["usage"] = nullptr;  // OpenAI sends usage: null on every chunk when include_usage is set
  return j;
}
json finish_json(const std::optional<std::string>& f) {
  return f ? json(*f) : json(nullptr);
}
}  // namespace

json chat_chunk(const ResponseHead& h, int index, json delta, const json& logprobs,
                const std::optional<std::string>& finish_reason, bool usage_field) {
  json c = {{"index", index},
            {"delta", std::move(delta)},
            {"logprobs", logprobs},
            {"finish_reason", finish_json(finish_reason)}};
  return chunk_base(h, json::array({std::move(c)}), usage_field);
}

json completion_chunk(const ResponseHead& h, int index, const std::string& text, const json& logprobs,
                      const std::optional<std::string>& finish_reason, bool usage_field) {
  json c = {{"index", index},
            {"text", text},
            {"logprobs", logprobs},
            {"finish_reason", finish_json(finish_reason)}};
  return chunk_base(h, json::array({std::move(c)}), usage_field);
}

json usage_chunk(const ResponseHead& h, const json& usage) {
  json j = chunk_base(h, json::array(), false);
  j["usage"] = usage;
  return j;
}

std::string sse_event(const json& j) {
  return "data: " + dump_json(j) + "\n\n";
}

}  // namespace r1::server
