#include "server/api/openai/responses_api.h"

#include <fmt/format.h>

#include "server/api/openai/openai_format.h"
#include "server/api/openai/protocol.h"
#include "server/api/openai/response_writer.h"
#include "server/api/openai/structured_fields.h"
#include "server/api/openai/tool_fields.h"
#include "server/api_error.h"

namespace r1::server {

using nlohmann::json;

namespace {

// Every field POST /v1/responses honours; anything else is refused with a 400 naming it.
const std::initializer_list<const char*> kResponsesFields = {"model",
                                                             "input",
                                                             "instructions",
                                                             "max_output_tokens",
                                                             "temperature",
                                                             "top_p",
                                                             "top_k",
                                                             "min_p",
                                                             "repetition_penalty",
                                                             "presence_penalty",
                                                             "frequency_penalty",
                                                             "seed",
                                                             "stream",
                                                             "stream_options",
                                                             "previous_response_id",
                                                             "store",
                                                             "text",
                                                             "tools",
                                                             "tool_choice",
                                                             "parallel_tool_calls",
                                                             "metadata",
                                                             "user",
                                                             "safety_identifier",
                                                             "prompt_cache_key",
                                                             "truncation",
                                                             "reasoning",
                                                             "include",
                                                             "service_tier",
                                                             "max_tool_calls",
                                                             "logit_bias",
                                                             "top_logprobs",
                                                             "background",
                                                             "max_reasoning_tokens"};
// The ones parse_shared_fields reads for us.
const std::initializer_list<const char*> kSamplingFields = {"model",
                                                            "temperature",
                                                            "top_p",
                                                            "top_k",
                                                            "min_p",
                                                            "repetition_penalty",
                                                            "presence_penalty",
                                                            "frequency_penalty",
                                                            "seed",
                                                            "stream",
                                                            "user",
                                                            "logit_bias"};

const json* field(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

// The parsed request: the chat to render, and what the Response object echoes back.
struct ResponsesRequest {
  json new_messages = json::array();  // this request's input as chat messages
  std::optional<std::string> instructions, previous_id;
  std::optional<int64_t> max_output_tokens;
  bool store = true, stream = false;
  json metadata = json::object();
  json text_format = {{"type", "text"}};        // echoed in the Response object
  std::optional<serving::OutputFormat> format;  // text.format, compiled by serving
  std::optional<int64_t> max_reasoning_tokens;
  ApiRequest sampling;  // sampling fields, stream, user, logit_bias
};

// A message item's content: a string, or parts of type input_text / output_text whose text is joined.
std::string item_text(const json& content, const std::string& name) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array())
    bad_request(fmt::format("'{}' must be a string or an array of content parts", name), name);
  std::string text;
  for (const json& part : content) {
    std::string type = part.is_object() ? part.value("type", "") : "";
    if (type != "input_text" && type != "output_text" && type != "text")
      bad_request(fmt::format("'{}': content part type '{}' is not supported (text only)", name, type), name);
    auto t = part.find("text");
    if (t == part.end() || !t->is_string())
      bad_request(fmt::format("'{}': a text part needs 'text'", name), name);
    text += t->get<std::string>();
  }
  return text;
}

ResponsesRequest parse_responses_request(const json& body, const serving::SamplingDefaults& defaults) {
  refuse_unknown_fields(body, kResponsesFields);
  ResponsesRequest r;
  json sampling = json::object();
  for (const char* k : kSamplingFields)
    if (body.contains(k)) sampling[k] = body[k];
  r.sampling = parse_shared_fields(sampling, defaults);
  r.stream = r.sampling.stream;

  const json* input = field(body, "input");
  if (!input) bad_request("'input' is required", "input");
  if (input->is_string()) {
    r.new_messages.push_back({{"role", "user"}, {"content", input->get<std::string>()}});
  } else if (input->is_array()) {
    for (size_t i = 0; i < input->size(); ++i) {
      const json& item = (*input)[i];
      std::string name = fmt::format("input[{}]", i);
      if (!item.is_object()) bad_request(fmt::format("'{}' must be an object", name), name);
      std::string type = item.value("type", "message");
      // Reasoning items a client sends back (an earlier turn's output): R1's templates drop the thinking of
      // earlier turns, so they add nothing to the prompt.
      if (type == "reasoning") continue;
      // An earlier turn's calls and their results: the chat form R1's template renders (consecutive calls
      // are one assistant turn).
      if (type == "function_call") {
        for (const char* k : {"call_id", "name", "arguments"})
          if (!item.contains(k) || !item[k].is_string())
            bad_request(fmt::format("'{}.{}' is required (a string)", name, k), name + "." + k);
        json call = {{"id", item["call_id"]},
                     {"type", "function"},
                     {"function", {{"name", item["name"]}, {"arguments", item["arguments"]}}}};
        if (!r.new_messages.empty() && r.new_messages.back().contains("tool_calls"))
          r.new_messages.back()["tool_calls"].push_back(std::move(call));
        else
          r.new_messages.push_back(
              {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array({std::move(call)})}});
        continue;
      }
      if (type == "function_call_output") {
        if (!item.contains("call_id") || !item["call_id"].is_string())
          bad_request(fmt::format("'{}.call_id' is required (a string)", name), name + ".call_id");
        auto out = item.find("output");
        if (out == item.end()) bad_request(fmt::format("'{}.output' is required", name), name + ".output");
        r.new_messages.push_back({{"role", "tool"},
                                  {"tool_call_id", item["call_id"]},
                                  {"content", out->is_string() ? out->get<std::string>() : out->dump()}});
        continue;
      }
      if (type != "message")
        bad_request(
            fmt::format("'{}': item type '{}' is not supported (message, reasoning, function_call and "
                        "function_call_output items only)",
                        name, type),
            name);
      std::string role = item.value("role", "");
      if (role != "user" && role != "assistant" && role != "system" && role != "developer")
        bad_request(fmt::format("'{}.role' must be user, assistant, system or developer", name),
                    name + ".role");
      auto content = item.find("content");
      if (content == item.end())
        bad_request(fmt::format("'{}.content' is required", name), name + ".content");
      r.new_messages.push_back({{"role", role == "developer" ? "system" : role},
                                {"content", item_text(*content, name + ".content")}});
    }
    if (r.new_messages.empty()) bad_request("'input' holds no message", "input");
  } else {
    bad_request("'input' must be a string or an array of items", "input");
  }

  if (const json* v = field(body, "instructions")) {
    if (!v->is_string()) bad_request("'instructions' must be a string", "instructions");
    r.instructions = v->get<std::string>();
  }
  if (const json* v = field(body, "max_output_tokens")) {
    if (!v->is_number_integer() || v->get<int64_t>() < 1 || v->get<int64_t>() > INT32_MAX)
      bad_request("'max_output_tokens' must be an integer >= 1", "max_output_tokens");
    r.max_output_tokens = v->get<int64_t>();
  }
  if (const json* v = field(body, "previous_response_id")) {
    if (!v->is_string()) bad_request("'previous_response_id' must be a string", "previous_response_id");
    r.previous_id = v->get<std::string>();
  }
  if (const json* v = field(body, "store")) {
    if (!v->is_boolean()) bad_request("'store' must be a boolean", "store");
    r.store = v->get<bool>();
  }
  if (const json* v = field(body, "metadata")) {
    if (!v->is_object()) bad_request("'metadata' must be an object of strings", "metadata");
    for (const auto& [k, x] : v->items())
      if (!x.is_string()) bad_request("'metadata' must be an object of strings", "metadata");
    r.metadata = *v;
  }

  if (const json* t = field(body, "text")) {
    if (!t->is_object()) bad_request("'text' must be an object", "text");
    if (const json* f = field(*t, "format")) {
      r.format = parse_response_format(*f, "text.format", /*flattened=*/true);
      r.text_format = *f;
    }
  }
  r.max_reasoning_tokens = parse_max_reasoning_tokens(body);
  // What has no meaning here yet is refused, never ignored: tools come with their own issue, and R1 has no
  // reasoning-effort control.
  refuse_structured_output(body);
  if (const json* v = field(body, "reasoning")) {
    if (!v->is_object() || field(*v, "effort") || field(*v, "summary"))
      bad_request("'reasoning' options are not supported: R1 always reasons, in full, before it answers",
                  "reasoning");
  }
  if (const json* v = field(body, "truncation"))
    if (*v != "disabled")
      bad_request("'truncation' must be \"disabled\" (a prompt over the context is a 400)", "truncation");
  if (const json* v = field(body, "include"))
    if (!v->is_array() || !v->empty()) bad_request("'include' is not supported by this server", "include");
  if (const json* v = field(body, "background"))
    if (*v != false) bad_request("'background' responses are not supported by this server", "background");
  if (const json* v = field(body, "top_logprobs"))
    if (*v != 0) bad_request("'top_logprobs' is not supported on /v1/responses yet", "top_logprobs");
  if (const json* v = field(body, "service_tier"))
    if (*v != "auto" && *v != "default")
      bad_request("'service_tier' must be \"auto\" or \"default\"", "service_tier");
  return r;
}

}  // namespace

ResponsesApi::ResponsesApi(serving::Service& service, size_t capacity, std::chrono::seconds ttl)
    : service_(service), store_(std::make_shared<ResponseStore>(capacity, ttl)) {}

bool ResponsesApi::handle(const HttpRequest& req, const std::string& path, std::shared_ptr<HttpResponder> res,
                          OnGenerationFinished on_finished) {
  if (path == "/v1/responses") {
    if (req.method != "POST") throw ApiError(405, "/v1/responses takes POST", "invalid_request_error");
    create(req, std::move(res), std::move(on_finished));
    return true;
  }
  std::string id = path.substr(std::string("/v1/responses/").size());
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (!get && req.method != "DELETE")
    throw ApiError(405, "/v1/responses/{id} takes GET or DELETE", "invalid_request_error");
  auto found = store_->get(id);
  if (!found)
    not_found(
        fmt::format("Response with id '{}' not found (responses are kept in memory, for an hour at most, and "
                    "only with store: true).",
                    id),
        "response_id");
  if (get) {
    res->send(200, "application/json", dump_json(found->response));
  } else {
    store_->erase(id);
    res->send(200, "application/json",
              dump_json({{"id", id}, {"object", "response.deleted"}, {"deleted", true}}));
  }
  return false;
}

void ResponsesApi::create(const HttpRequest& req, std::shared_ptr<HttpResponder> res,
                          OnGenerationFinished on_finished) {
  if (service_.draining())
    throw ApiError(503, "the server is shutting down", "service_unavailable_error", std::nullopt, "draining");
  json body = parse_json_body(req.body);
  auto named = body.find("model");
  auto model = service_.models().get(named != body.end() && named->is_string()
                                         ? std::optional<std::string>(named->get<std::string>())
                                         : std::nullopt);
  ResponsesRequest r = parse_responses_request(body, model->sampling_defaults);
  keep_schema_order(r.format, req.body);
  std::optional<serving::ToolsRequest> tools;
  if (body.contains("tools") || body.contains("tool_choice")) tools = parse_tool_fields(req.body, true);

  json conversation = json::array();
  if (r.previous_id) {
    auto prev = store_->get(*r.previous_id);
    if (!prev)
      not_found(fmt::format("Previous response with id '{}' not found.", *r.previous_id),
                "previous_response_id");
    conversation = prev->conversation;
  }
  for (const auto& m : r.new_messages) conversation.push_back(m);
  json messages = json::array();
  if (r.instructions) messages.push_back({{"role", "system"}, {"content", *r.instructions}});
  for (const auto& m : conversation) messages.push_back(m);

  serving::GenerateRequest g;
  g.model = r.sampling.model;
  g.input = serving::ChatInput{messages, nullptr, true};
  g.input_field = "input";
  g.max_tokens_field = "max_output_tokens";
  g.max_tokens = r.max_output_tokens;
  g.params.sampling = r.sampling.sampling;
  g.format = r.format;
  g.max_reasoning_tokens = r.max_reasoning_tokens;
  g.tools = tools;

  ResponseHead head = make_head(Endpoint::responses, model->name);
  json base = {
      {"id", head.id},
      {"object", "response"},
      {"created_at", head.created},
      {"status", "in_progress"},
      {"background", false},
      {"error", nullptr},
      {"incomplete_details", nullptr},
      {"instructions", r.instructions ? json(*r.instructions) : json(nullptr)},
      {"max_output_tokens", r.max_output_tokens ? json(*r.max_output_tokens) : json(nullptr)},
      {"max_tool_calls", nullptr},
      {"model", model->name},
      {"output", json::array()},
      {"parallel_tool_calls", tools ? tools->parallel : true},
      {"previous_response_id", r.previous_id ? json(*r.previous_id) : json(nullptr)},
      {"reasoning", {{"effort", nullptr}, {"summary", nullptr}}},
      {"service_tier", "default"},
      {"store", r.store},
      {"temperature", r.sampling.sampling.temperature},
      {"text", {{"format", r.text_format}}},
      {"tool_choice",
       body.contains("tool_choice") && !body["tool_choice"].is_null() ? body["tool_choice"] : json("auto")},
      {"tools", body.contains("tools") && body["tools"].is_array() ? body["tools"] : json::array()},
      {"top_logprobs", 0},
      {"top_p", r.sampling.sampling.top_p},
      {"truncation", "disabled"},
      {"usage", nullptr},
      {"user", r.sampling.user.empty() ? json(nullptr) : json(r.sampling.user)},
      {"metadata", r.metadata}};
  auto writer = make_response_writer(std::move(base), r.stream, model->reasoning, res, store_, r.store,
                                     std::move(conversation), std::move(on_finished));
  auto gen = service_.generate(std::move(g), writer, head.id);
  std::weak_ptr<serving::Generation> weak = gen;
  res->on_disconnect([weak] {
    if (auto g = weak.lock()) g->cancel();
  });
}

}  // namespace r1::server
