#pragma once
// OpenAI response bodies and server-sent-event chunks, shaped exactly like api.openai.com's so official
// clients parse them: ids, created, system_fingerprint, finish_reason, usage, logprobs in both formats.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/api/openai/protocol.h"
#include "serving/generation.h"

namespace r1::server {

constexpr const char* kSystemFingerprint = "fp_r1serve_0.1.0";

// What every response and chunk of one request repeats.
struct ResponseHead {
  Endpoint endpoint = Endpoint::chat;
  std::string id;  // chatcmpl-… / cmpl-…
  int64_t created = 0;
  std::string model;
};
// A fresh head with a random id and the current time.
ResponseHead make_head(Endpoint endpoint, const std::string& model);
// Unix time now, in seconds.
int64_t unix_now();
// "chatcmpl-" / "cmpl-" + 32 random hex digits.
std::string new_request_id(const char* prefix);

// Chat / completions usage; completion_tokens_details.reasoning_tokens counts the tokens of R1's thinking (0
// without the reasoning split), prompt_tokens_details.cached_tokens the prompt tokens the prefix cache
// served.
nlohmann::json usage_json(size_t prompt_tokens, size_t completion_tokens, size_t cached_tokens = 0,
                          size_t reasoning_tokens = 0);

using serving::LogprobEntry;
// Chat: {"content": [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}], "refusal": null}
nlohmann::json chat_logprobs(const std::vector<LogprobEntry>& entries);
// Completions: {tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}; offsets start at
// `offset0` (the length of the text before these tokens in the choice's text).
nlohmann::json completion_logprobs(const std::vector<LogprobEntry>& entries, size_t offset0, bool with_top);

// Chat tool calls: [{id, type: "function", function: {name, arguments}}]; streamed deltas also carry each
// call's `index` within its choice, counting from `first_index`.
nlohmann::json chat_tool_calls(const std::vector<serving::ToolCall>& calls, bool streamed = false,
                               size_t first_index = 0);

// A whole chat completion choice / completions choice. `tool_calls`: a chat_tool_calls array.
nlohmann::json chat_choice(int index, const std::string& content, const std::optional<std::string>& reasoning,
                           bool reasoning_enabled, const nlohmann::json& logprobs,
                           const std::string& finish_reason,
                           const nlohmann::json& tool_calls = nlohmann::json::array());
nlohmann::json completion_choice(int index, const std::string& text, const nlohmann::json& logprobs,
                                 const std::string& finish_reason);
// The whole response: chat.completion / text_completion.
nlohmann::json full_response(const ResponseHead& h, nlohmann::json choices, const nlohmann::json& usage);

// One streamed chunk with a single choice. finish_reason null until the last chunk of that choice.
// Chat: `delta` holds role / content / reasoning_content; completions: `text`.
nlohmann::json chat_chunk(const ResponseHead& h, int index, nlohmann::json delta,
                          const nlohmann::json& logprobs, const std::optional<std::string>& finish_reason,
                          bool usage_field);
nlohmann::json completion_chunk(const ResponseHead& h, int index, const std::string& text,
                                const nlohmann::json& logprobs,
                                const std::optional<std::string>& finish_reason, bool usage_field);
// The final chunk when stream_options.include_usage: choices is [] and usage is set.
nlohmann::json usage_chunk(const ResponseHead& h, const nlohmann::json& usage);

// "data: {...}\n\n"
std::string sse_event(const nlohmann::json& j);
constexpr const char* kSseDone = "data: [DONE]\n\n";

}  // namespace r1::server
