#include "server/api/openai/responses_api.h"

#include <fmt/format.h>

#include "server/api/openai/openai_format.h"
#include "server/api/openai/protocol.h"
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
                                                             "background"};
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
      if (type != "message")
        bad_request(fmt::format("'{}': item type '{}' is not supported (message and reasoning items only)",
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

  // What has no meaning here yet is refused, never ignored: structured output and tools come with their own
  // issue, and R1 has no reasoning-effort control.
  if (const json* t = field(body, "text")) {
    const json* f = t->is_object() ? field(*t, "format") : nullptr;
    if (!t->is_object() || (f && (!f->is_object() || f->value("type", "") != "text")))
      bad_request(
          "'text.format' is not supported by this server yet (only {\"type\": \"text\"}): the model cannot "
          "be constrained to JSON",
          "text.format");
  }
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

json usage_of(const serving::GenerateResult& r) {
  return {{"input_tokens", r.prompt_tokens},
          {"input_tokens_details", {{"cached_tokens", r.cached_tokens}}},
          {"output_tokens", r.completion_tokens},
          {"output_tokens_details", {{"reasoning_tokens", r.reasoning_tokens}}},
          {"total_tokens", r.prompt_tokens + r.completion_tokens}};
}

// Streams (or collects) one response. Item ids are fixed up front; sequence numbers count every event.
class ResponseWriter final : public serving::GenerationObserver {
 public:
  ResponseWriter(json base, bool stream, bool reasoning_enabled, std::shared_ptr<HttpResponder> res,
                 std::shared_ptr<ResponseStore> store, bool keep, json conversation,
                 OnGenerationFinished on_finished)
      : base_(std::move(base)),
        stream_(stream),
        reasoning_enabled_(reasoning_enabled),
        res_(std::move(res)),
        store_(std::move(store)),
        keep_(keep),
        conversation_(std::move(conversation)),
        on_finished_(std::move(on_finished)) {
    std::string hex = base_["id"].get<std::string>().substr(5);  // after "resp_"
    rs_id_ = "rs_" + hex;
    msg_id_ = "msg_" + hex;
  }

  void on_started() override {
    if (!stream_) return;
    res_->begin_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
    json r = base_;
    r["status"] = "in_progress";
    emit("response.created", {{"response", r}});
    emit("response.in_progress", {{"response", r}});
  }

  void on_delta(const serving::ChoiceDelta& d) override {
    reasoning_ += d.reasoning;
    content_ += d.content;
    if (!stream_) return;
    if (!d.reasoning.empty()) {
      open_reasoning();
      emit("response.reasoning_text.delta",
           {{"item_id", rs_id_}, {"output_index", rs_index_}, {"content_index", 0}, {"delta", d.reasoning}});
    }
    if (!d.content.empty()) {
      close_reasoning();
      open_message();
      emit("response.output_text.delta", {{"item_id", msg_id_},
                                          {"output_index", msg_index_},
                                          {"content_index", 0},
                                          {"delta", d.content},
                                          {"logprobs", json::array()}});
    }
  }

  void on_complete(const serving::GenerateResult& r) override {
    json resp = base_;
    if (r.error) {
      resp["status"] = "failed";
      resp["error"] = {{"code", "server_error"}, {"message", *r.error}};
    } else if (!r.choices.empty() && r.choices[0].finish_reason == "length") {
      resp["status"] = "incomplete";
      resp["incomplete_details"] = {{"reason", "max_output_tokens"}};
    } else {
      resp["status"] = "completed";
    }
    const bool incomplete = resp["status"] != "completed";
    resp["usage"] = usage_of(r);
    json output = json::array();
    if (!reasoning_.empty()) output.push_back(reasoning_item(incomplete && content_.empty()));
    // The answer: always when the model got past its thinking, never for output cut inside it.
    if (!content_.empty() || !reasoning_enabled_ || (!incomplete && !r.error))
      output.push_back(message_item(incomplete));
    resp["output"] = output;
    // Stored before the client can see the answer: its next request may name this one at once.
    if (keep_ && !r.error) {
      conversation_.push_back({{"role", "assistant"}, {"content", content_}});
      store_->put(resp["id"], {resp, conversation_});
    }
    if (stream_) {
      close_reasoning();
      if (output.size() > (reasoning_.empty() ? 0u : 1u)) open_message();
      close_message(incomplete);
      const char* kind = r.error      ? "response.failed"
                         : incomplete ? "response.incomplete"
                                      : "response.completed";
      emit(kind, {{"response", resp}});
      res_->end_stream();
    } else if (r.error) {
      status_ = 500;
      ApiError e(500, *r.error, "internal_server_error");
      res_->send(500, "application/json", dump_json(e.to_json()));
    } else {
      res_->send(200, "application/json", dump_json(resp));
    }
  }

  void on_finished(const serving::GenerationSummary& s) override {
    if (on_finished_) on_finished_(base_["id"], status_, s);
  }

 private:
  void emit(const char* type, json ev) {
    ev["type"] = type;
    ev["sequence_number"] = seq_++;
    res_->write(fmt::format("event: {}\ndata: {}\n\n", type, dump_json(ev)));
  }
  json reasoning_item(bool incomplete) const {
    return {{"id", rs_id_},
            {"type", "reasoning"},
            {"summary", json::array()},
            {"content", json::array({{{"type", "reasoning_text"}, {"text", reasoning_}}})},
            {"encrypted_content", nullptr},
            {"status", incomplete ? "incomplete" : "completed"}};
  }
  json text_part(const std::string& text) const {
    return {
        {"type", "output_text"}, {"text", text}, {"annotations", json::array()}, {"logprobs", json::array()}};
  }
  json message_item(bool incomplete) const {
    return {{"id", msg_id_},
            {"type", "message"},
            {"role", "assistant"},
            {"status", incomplete ? "incomplete" : "completed"},
            {"content", json::array({text_part(content_)})}};
  }
  void open_reasoning() {
    if (rs_index_ >= 0) return;
    rs_index_ = next_index_++;
    emit("response.output_item.added",
         {{"output_index", rs_index_},
          {"item",
           {{"id", rs_id_}, {"type", "reasoning"}, {"summary", json::array()}, {"status", "in_progress"}}}});
    emit("response.content_part.added", {{"item_id", rs_id_},
                                         {"output_index", rs_index_},
                                         {"content_index", 0},
                                         {"part", {{"type", "reasoning_text"}, {"text", ""}}}});
  }
  void close_reasoning() {
    if (rs_index_ < 0 || rs_closed_) return;
    rs_closed_ = true;
    emit("response.reasoning_text.done",
         {{"item_id", rs_id_}, {"output_index", rs_index_}, {"content_index", 0}, {"text", reasoning_}});
    emit("response.content_part.done", {{"item_id", rs_id_},
                                        {"output_index", rs_index_},
                                        {"content_index", 0},
                                        {"part", {{"type", "reasoning_text"}, {"text", reasoning_}}}});
    emit("response.output_item.done", {{"output_index", rs_index_}, {"item", reasoning_item(false)}});
  }
  void open_message() {
    if (msg_index_ >= 0) return;
    msg_index_ = next_index_++;
    emit("response.output_item.added", {{"output_index", msg_index_},
                                        {"item",
                                         {{"id", msg_id_},
                                          {"type", "message"},
                                          {"role", "assistant"},
                                          {"status", "in_progress"},
                                          {"content", json::array()}}}});
    emit("response.content_part.added",
         {{"item_id", msg_id_}, {"output_index", msg_index_}, {"content_index", 0}, {"part", text_part("")}});
  }
  void close_message(bool incomplete) {
    if (msg_index_ < 0) return;
    emit("response.output_text.done", {{"item_id", msg_id_},
                                       {"output_index", msg_index_},
                                       {"content_index", 0},
                                       {"text", content_},
                                       {"logprobs", json::array()}});
    emit("response.content_part.done", {{"item_id", msg_id_},
                                        {"output_index", msg_index_},
                                        {"content_index", 0},
                                        {"part", text_part(content_)}});
    emit("response.output_item.done", {{"output_index", msg_index_}, {"item", message_item(incomplete)}});
  }

  json base_;
  bool stream_, reasoning_enabled_;
  std::shared_ptr<HttpResponder> res_;
  std::shared_ptr<ResponseStore> store_;
  bool keep_;
  json conversation_;
  OnGenerationFinished on_finished_;
  std::string rs_id_, msg_id_, reasoning_, content_;
  int rs_index_ = -1, msg_index_ = -1, next_index_ = 0;
  bool rs_closed_ = false;
  uint64_t seq_ = 0;
  int status_ = 200;
};

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

  ResponseHead head = make_head(Endpoint::responses, model->name);
  json base = {{"id", head.id},
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
               {"parallel_tool_calls", true},
               {"previous_response_id", r.previous_id ? json(*r.previous_id) : json(nullptr)},
               {"reasoning", {{"effort", nullptr}, {"summary", nullptr}}},
               {"service_tier", "default"},
               {"store", r.store},
               {"temperature", r.sampling.sampling.temperature},
               {"text", {{"format", {{"type", "text"}}}}},
               {"tool_choice", "auto"},
               {"tools", json::array()},
               {"top_logprobs", 0},
               {"top_p", r.sampling.sampling.top_p},
               {"truncation", "disabled"},
               {"usage", nullptr},
               {"user", r.sampling.user.empty() ? json(nullptr) : json(r.sampling.user)},
               {"metadata", r.metadata}};
  auto writer = std::make_shared<ResponseWriter>(std::move(base), r.stream, model->reasoning, res, store_,
                                                 r.store, std::move(conversation), std::move(on_finished));
  auto gen = service_.generate(std::move(g), writer, head.id);
  std::weak_ptr<serving::Generation> weak = gen;
  res->on_disconnect([weak] {
    if (auto g = weak.lock()) g->cancel();
  });
}

}  // namespace r1::server
