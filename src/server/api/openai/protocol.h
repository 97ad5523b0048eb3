#pragma once
// OpenAI request bodies → one validated ApiRequest. Every check names the field in the error (param), with
// the value's allowed range, as OpenAI and vLLM do; nothing here touches the engine or the tokenizer.
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "serving/served_model.h"
#include "serving/structured_output.h"
#include "serving/tool_calls.h"

namespace r1::server {

enum class Endpoint { chat, completion, responses };

// Sampling defaults of the served model (generation_config.json); unset fields fall back to OpenAI's.
using serving::SamplingDefaults;

// One completions prompt: text, or token ids as given.
struct PromptInput {
  std::optional<std::string> text;
  std::vector<int32_t> ids;
};

struct ApiRequest {
  Endpoint endpoint = Endpoint::chat;
  std::optional<std::string> model;
  nlohmann::json messages;  // chat: [{role, content: string}], content parts already joined
  nlohmann::json tools;     // chat: passed to the template as is (null when absent)
  bool add_generation_prompt = true;
  std::vector<PromptInput> prompts;   // completions: one or more prompts
  std::optional<int64_t> max_tokens;  // unset: up to the context limit
  SamplingParams sampling;
  std::vector<std::string> stop;
  std::vector<int32_t> stop_token_ids;
  bool ignore_eos = false;
  bool skip_special_tokens = true;
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;  // chat: logprobs; completions: logprobs is not null
  int top_logprobs = 0;   // chat: top_logprobs; completions: the integer logprobs
  bool echo = false;      // completions: prompt text before the completion
  int n = 1;
  std::string user;
  std::optional<serving::OutputFormat> format;        // structured output (structured_fields.h)
  std::optional<int64_t> max_reasoning_tokens;        // chat: the reasoning budget
  std::optional<serving::ToolsRequest> tool_request;  // chat: tools / tool_choice (tool_fields.h)
};

// Limits on what a request may ask for.
constexpr int kMaxN = 16;
constexpr int kMaxTopLogprobs = 20;

// Parses the body text; a non-object or malformed JSON is a 400.
nlohmann::json parse_json_body(const std::string& body);

// 400 naming functions or function_call (the deprecated forms of tools and tool_choice) when the body sets
// them.
void refuse_structured_output(const nlohmann::json& body);
// The fields parse_shared_fields (and so chat and completions) reads.
extern const std::initializer_list<const char*> kSharedFields;
// 400 naming the first field of the body (null fields aside) that is in neither `known` nor, with
// `shared`, kSharedFields.
void refuse_unknown_fields(const nlohmann::json& body, std::initializer_list<const char*> known,
                           bool shared = false);

// The fields chat and completions share (sampling, stop, stream, n, user, logit_bias), for other endpoints
// that take some of them; `body` should hold only those the endpoint accepts.
ApiRequest parse_shared_fields(const nlohmann::json& body, const SamplingDefaults& defaults);

ApiRequest parse_chat_request(const nlohmann::json& body, const SamplingDefaults& defaults);
ApiRequest parse_completion_request(const nlohmann::json& body, const SamplingDefaults& defaults);

}  // namespace r1::server
