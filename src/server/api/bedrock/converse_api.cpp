// POST /model/{modelId}/converse and /converse-stream: Bedrock's model-neutral chat. R1's thinking comes back
// as a reasoningContent block before the text block, in the whole answer and in the stream.
#include <chrono>

#include "server/api/bedrock/bedrock_api.h"
#include "server/api/bedrock/bedrock_error.h"
#include "server/api/bedrock/event_stream.h"
#include "server/api/openai/openai_format.h"
#include "server/api_error.h"

namespace r1::server::bedrock {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const json* member(const json& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

// The text of a message's content blocks ({text}); reasoning blocks of earlier turns are left out, as the R1
// template drops earlier thinking anyway; any other block is refused by name.
std::string blocks_text(const json& blocks, const std::string& name) {
  if (!blocks.is_array()) bad_request(name + " must be an array of content blocks", name);
  std::string text;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const json& b = blocks[i];
    const std::string at = fmt::format("{}[{}]", name, i);
    if (!b.is_object() || b.size() != 1)
      bad_request(at + " must be an object with one member (e.g. 'text')", at);
    auto only = b.begin();  // (items() would hand out a proxy that dies with this statement)
    const std::string kind = only.key();
    const json& value = only.value();
    if (kind == "text") {
      if (!value.is_string()) bad_request(at + ".text must be a string", at + ".text");
      text += value.get<std::string>();
    } else if (kind != "reasoningContent") {
      bad_request(
          fmt::format("{}: '{}' content blocks are not supported by this model (text only)", at, kind), at);
    }
  }
  return text;
}

// The Converse body as an OpenAI chat body (which the shared validator then checks).
json to_openai_chat(const json& body) {
  for (const auto& [k, v] : body.items()) {
    static const char* kKnown[] = {
        "modelId",        "messages", "system", "inferenceConfig", "additionalModelRequestFields",
        "requestMetadata"};
    if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown) && !v.is_null())
      bad_request(fmt::format("'{}' is not supported by this server; it is refused rather than ignored", k),
                  k);
  }
  json messages = json::array();
  if (const json* sys = member(body, "system")) {
    std::string text = blocks_text(*sys, "system");
    if (!text.empty()) messages.push_back({{"role", "system"}, {"content", text}});
  }
  const json* msgs = member(body, "messages");
  if (!msgs || !msgs->is_array() || msgs->empty())
    bad_request("'messages' is required: an array of at least one {role, content} message", "messages");
  for (size_t i = 0; i < msgs->size(); ++i) {
    const json& m = (*msgs)[i];
    const std::string at = fmt::format("messages[{}]", i);
    if (!m.is_object()) bad_request(at + " must be an object", at);
    const json* role = member(m, "role");
    if (!role || !role->is_string() || (*role != "user" && *role != "assistant"))
      bad_request(at + ".role must be 'user' or 'assistant'", at + ".role");
    const json* content = member(m, "content");
    if (!content) bad_request(at + ".content is required", at + ".content");
    messages.push_back({{"role", *role}, {"content", blocks_text(*content, at + ".content")}});
  }
  json out = {{"messages", messages}};
  if (const json* ic = member(body, "inferenceConfig")) {
    if (!ic->is_object()) bad_request("'inferenceConfig' must be an object", "inferenceConfig");
    for (const auto& [k, v] : ic->items()) {
      if (v.is_null()) continue;
      if (k == "maxTokens") {
        if (!v.is_number_integer() || v.get<int64_t>() < 1)
          bad_request(fmt::format("inferenceConfig.maxTokens must be a positive integer, not {}", v.dump()),
                      "inferenceConfig.maxTokens");
        out["max_tokens"] = v;
      } else if (k == "temperature") {
        out["temperature"] = v;
      } else if (k == "topP") {
        out["top_p"] = v;
      } else if (k == "stopSequences") {
        out["stop"] = v;
      } else {
        bad_request(
            fmt::format("inferenceConfig.{} is not a field of inferenceConfig (maxTokens, temperature, topP, "
                        "stopSequences)",
                        k),
            "inferenceConfig." + k);
      }
    }
  }
  // Model-specific fields pass through as the OpenAI names the shared validator knows (top_k, seed, …).
  if (const json* extra = member(body, "additionalModelRequestFields")) {
    if (!extra->is_object())
      bad_request("'additionalModelRequestFields' must be an object", "additionalModelRequestFields");
    for (const auto& [k, v] : extra->items()) {
      if (k == "messages" || k == "stream" || k == "stream_options" || k == "model")
        bad_request(fmt::format("additionalModelRequestFields.{} cannot be set", k),
                    "additionalModelRequestFields");
      out[k] = v;
    }
  }
  return out;
}

std::string stop_reason(const serving::ChoiceResult& c) {
  if (c.finish_reason == "length") return "max_tokens";
  if (c.stop_string) return "stop_sequence";
  return "end_turn";
}

json usage(const serving::GenerateResult& r) {
  return {{"inputTokens", r.prompt_tokens},
          {"outputTokens", r.completion_tokens},
          {"totalTokens", r.prompt_tokens + r.completion_tokens}};
}

class ConverseWriter final : public serving::GenerationObserver {
 public:
  ConverseWriter(BedrockCall call, std::string id) : c_(std::move(call)), id_(std::move(id)) {}

  void on_started() override {
    if (!c_.stream) return;
    c_.res->begin_stream(200, "application/vnd.amazon.eventstream", {{"x-amzn-requestid", c_.request_id}});
    send("messageStart", {{"role", "assistant"}});
  }

  void on_delta(const serving::ChoiceDelta& d) override {
    if (!c_.stream) return;
    if (!d.reasoning.empty()) {
      open(Block::reasoning);
      send("contentBlockDelta",
           {{"contentBlockIndex", index_}, {"delta", {{"reasoningContent", {{"text", d.reasoning}}}}}});
    }
    if (!d.content.empty()) {
      open(Block::text);
      send("contentBlockDelta", {{"contentBlockIndex", index_}, {"delta", {{"text", d.content}}}});
    }
  }

  void on_complete(const serving::GenerateResult& r) override {
    const int64_t latency = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0_).count();
    if (auto failure = generation_failure(r)) {
      const BedrockError& e = *failure;
      status_ = e.status;
      if (!c_.stream) return send_error(*c_.res, e, c_.request_id);
      c_.res->write(eventstream::exception(stream_exception_type(e, /*converse=*/true),
                                           dump_json({{"message", e.message}})));
      c_.res->end_stream();
      return;
    }
    const serving::ChoiceResult& ch = r.choices.at(0);
    if (c_.stream) {
      if (block_ != Block::none) send("contentBlockStop", {{"contentBlockIndex", index_}});
      send("messageStop", {{"stopReason", stop_reason(ch)}});
      send("metadata", {{"usage", usage(r)}, {"metrics", {{"latencyMs", latency}}}});
      c_.res->end_stream();
      return;
    }
    json content = json::array();
    if (!ch.reasoning.empty())
      content.push_back({{"reasoningContent", {{"reasoningText", {{"text", ch.reasoning}}}}}});
    if (!ch.content.empty() || content.empty()) content.push_back({{"text", ch.content}});
    json body = {{"output", {{"message", {{"role", "assistant"}, {"content", content}}}}},
                 {"stopReason", stop_reason(ch)},
                 {"usage", usage(r)},
                 {"metrics", {{"latencyMs", latency}}}};
    c_.res->send(200, "application/json", dump_json(body), {{"x-amzn-requestid", c_.request_id}});
  }

  void on_finished(const serving::GenerationSummary& s) override {
    if (c_.on_finished) c_.on_finished(id_, status_, s);
  }

 private:
  enum class Block { none, reasoning, text };

  // Moves the stream into a block of `kind`: the open block of another kind is stopped first.
  void open(Block kind) {
    if (block_ == kind) return;
    if (block_ != Block::none) {
      send("contentBlockStop", {{"contentBlockIndex", index_}});
      ++index_;
    }
    block_ = kind;
  }

  void send(const std::string& event, const json& payload) {
    c_.res->write(eventstream::event(event, dump_json(payload)));
  }

  BedrockCall c_;
  std::string id_;
  Clock::time_point t0_ = Clock::now();
  Block block_ = Block::none;
  int index_ = 0;
  int status_ = 200;
};

}  // namespace

void run_converse(BedrockCall call, const std::string& body_text) {
  json body = to_openai_chat(parse_json_body(body_text));
  auto model = call.service.models().get(call.model);
  refuse_unknown_fields(body, kChatFields, /*shared=*/true);
  ApiRequest r = parse_chat_request(body, model->sampling_defaults);
  if (r.n != 1) bad_request("Converse answers one message per request: 'n' must be 1", "n");
  serving::GenerateRequest g = to_generate_request(r);
  g.model = call.model;
  g.max_tokens_field = "inferenceConfig.maxTokens";
  serving::Service& service = call.service;
  auto res = call.res;
  std::string id = new_request_id("converse-");
  auto writer = std::make_shared<ConverseWriter>(std::move(call), id);
  std::shared_ptr<serving::Generation> gen = service.generate(std::move(g), writer, id);
  std::weak_ptr<serving::Generation> weak = gen;
  res->on_disconnect([weak] {
    if (auto g = weak.lock()) g->cancel();
  });
}

}  // namespace r1::server::bedrock
